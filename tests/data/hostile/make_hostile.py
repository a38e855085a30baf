"""Write the hostile corpus of this folder: python tests/data/hostile/make_hostile.py.

Every file here must come out of an ingest as 'failed' or 'no_forms' with a message, in bounded
time, with nothing from outside the inbox in the warehouse (see README.md beside this script).
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[2] / "samples" / "pdf"
FORM_PDF = SAMPLES / "self_eval_wanyuan.pdf"
PASSWORD = "jixiao-test"  # encrypted.pdf's user password
OUTSIDE = "file:///etc/passwd"  # what the entity tricks try to pull in

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _docx(document_xml: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("word/document.xml", document_xml)
    return buffer.getvalue()


def _table_docx(doctype: str, cell: str) -> bytes:
    return _docx(
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        f'<w:document xmlns:w="{W}"><w:body><w:tbl>'
        f"<w:tr><w:tc><w:p><w:r><w:t>项目名称</w:t></w:r></w:p></w:tc>"
        f"<w:tc><w:p><w:r><w:t>{cell}</w:t></w:r></w:p></w:tc></w:tr>"
        "</w:tbl></w:body></w:document>"
    )


def _xlsx(doctype: str, cell: str) -> bytes:
    """A one-sheet workbook whose sheet XML carries ``doctype`` and ``cell`` as B1's text."""
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "项目名称"
    buffer = io.BytesIO()
    book.save(buffer)
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>项目名称</t></is></c>'
        f'<c r="B1" t="inlineStr"><is><t>{cell}</t></is></c></row></sheetData></worksheet>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            dest.writestr(item.filename, data)
    return out.getvalue()


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def _bomb(member: str, kind: str) -> bytes:
    """A container whose one big member inflates 12 MB from a few kilobytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES if kind == "docx" else "<Types/>")
        archive.writestr(member, b"<x>" + b" " * (12 * 1024 * 1024) + b"</x>")
    return buffer.getvalue()


def _prose_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    lines = [
        "关于做好2024年度预算绩效管理工作的通知",
        "各区财政局、市级各预算单位：",
        "为贯彻落实全面实施预算绩效管理的要求，现将有关事项通知如下。",
        "一、各单位应于3月底前完成项目支出绩效自评，并填报项目支出绩效自评表。",
        "二、自评结果应当随部门决算一并公开，接受社会监督。",
        "附件：项目支出绩效自评表（样表另行印发）",
    ]
    for number in range(3):
        text = page.beginText(72, 770)
        text.setFont("STSong-Light", 12)
        for line in lines:
            text.textLine(line)
        page.drawText(text)
        page.drawString(290, 40, str(number + 1))
        page.showPage()
    page.save()
    return buffer.getvalue()


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(FORM_PDF))
    writer.encrypt(user_password=PASSWORD, owner_password=PASSWORD + "-owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _noise_png() -> bytes:
    from PIL import Image

    rng = random.Random(11)
    image = Image.frombytes("L", (160, 120), bytes(rng.randrange(256) for _ in range(160 * 120)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


SCRIPT_HTML = """<!doctype html><html><head><meta charset="utf-8">
<script>document.write('<table><tr><td>项目支出绩效自评表</td></tr></table>');
fetch('file:///etc/passwd').then(r => r.text()).then(t => document.body.append(t));</script>
<style>td::after { content: "绩效自评表"; }</style></head>
<body onload="document.body.innerHTML = '<h1>项目支出绩效自评表</h1>'">
<iframe src="file:///etc/passwd"></iframe><object data="file:///etc/passwd"></object>
<img src="x" onerror="alert(1)"><p>本页只有脚本与外部引用，没有绩效表。</p>
<table><tr><td>单位</td><td><script>document.write('项目名称')</script>预算</td></tr></table>
</body></html>
"""


def corpus() -> dict[str, bytes]:
    """File name → bytes of every file of the corpus."""
    form = FORM_PDF.read_bytes()
    xxe = f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "{OUTSIDE}">]>'
    return {
        "empty.pdf": b"",
        "empty.xlsx": b"",
        "random_bytes.pdf": random.Random(5).randbytes(4096),
        "truncated.pdf": form[: len(form) * 6 // 10],
        "encrypted.pdf": _encrypted_pdf(),
        "not_a_zip.xlsx": "项目名称,预算\n这不是工作簿\n".encode(),
        "not_a_zip.docx": b"PK\x03\x04 but nothing after the signature",
        "noise.png": _noise_png(),
        "prose.pdf": _prose_pdf(),
        "xxe.docx": _table_docx(xxe, "&xxe;"),
        "xxe.xlsx": _xlsx(xxe, "&xxe;"),
        "billion_laughs.xlsx": _xlsx(LAUGHS, "&lol9;"),
        "billion_laughs.docx": _table_docx(LAUGHS, "&lol9;"),
        "zip_bomb.xlsx": _bomb("xl/worksheets/sheet1.xml", "xlsx"),
        "zip_bomb.docx": _bomb("word/document.xml", "docx"),
        "script.html": SCRIPT_HTML.encode(),
    }


if __name__ == "__main__":
    for name, data in corpus().items():
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")
