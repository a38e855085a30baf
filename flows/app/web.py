"""``jixiao review``: the quarantine in the browser, on 127.0.0.1.

A list of forms (held back, rejected or landed) filtered by department, year, family and failed
check; a form's page with its source page rendered and cropped to the form, the cells of its
failed checks outlined in red, the values read beside it and every failed check with what was
observed and expected; Release / Reject with a note. A decision goes through
:meth:`warehouse.Warehouse.review`, written under the same lock as an ingest, exactly as
``jixiao quarantine release``; while an ingest holds the lock the page says so and keeps the note.
Every page is read from the published warehouse file, read-only, so an ingest never waits for it.
Nothing is loaded from the internet: the pages carry their own CSS and name a CJK font stack.
"""

from __future__ import annotations

import io
import json
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from flows.app.review import failed_checks, form_pages, page_image, unpictured
from flows.report import TEMPLATES
from schemas.families import BY_FORM_TYPE
from warehouse import NotAWarehouse, Warehouse, WarehouseBusy, WarehouseTooNew
from warehouse.ddl import HELD, LANDED

STATES = {  # the lists: what each shows, and which forms
    "held": ("awaiting review", f"{HELD} AND NOT coalesce(f.rejected, false)"),
    "rejected": ("rejected", f"{HELD} AND coalesce(f.rejected, false)"),
    "landed": ("landed in forms", LANDED),
}
FILTERS = ("department", "year", "family", "check")
LIST_ORDER = "f.department NULLS LAST, f.fiscal_year NULLS LAST, f.source_file, f.form_ordinal"
LIST_LIMIT = 500  # rows shown; the filters narrow the rest down
DECISIONS = {"release": "released", "reject": "rejected"}
LOCAL_NAMES = ("127.0.0.1", "localhost")
PAGE_DPI = 150  # sharp enough to read a small-print landscape table when opened on its own


def _state_of(form: dict) -> str:
    if form["status"] != "quarantined" or form["released"]:
        return "landed"
    return "rejected" if form["rejected"] else "held"


def _next(waiting: list[str], form_id: str) -> str | None:
    """The form awaiting review after ``form_id`` in the list (the first if it is not in it)."""
    if form_id not in waiting:
        return waiting[0] if waiting else None
    later = waiting[waiting.index(form_id) + 1 :]
    return later[0] if later else None


def _family(form_type: str) -> str:
    family = BY_FORM_TYPE.get(form_type)
    return family.name if family else form_type


class ReviewApp:
    """The pages of one warehouse file; ``reviewer`` is who decides unless the page says."""

    def __init__(self, db: Path, reviewer: str) -> None:
        self.db = db
        self.reviewer = reviewer

    @contextmanager
    def reading(self) -> Iterator[Warehouse]:
        """The published warehouse, read-only, for one request."""
        try:
            warehouse = Warehouse.open(self.db, read_only=True)
        except (FileNotFoundError, NotAWarehouse, WarehouseTooNew, WarehouseBusy) as error:
            raise HTTPException(503, str(error)) from error
        with warehouse:
            yield warehouse

    def forms(self, state: str, chosen: dict[str, str]) -> dict:
        """The list page: the forms in ``state`` matching the ``chosen`` filters."""
        where = STATES[state][1]
        with self.reading() as warehouse:
            con = warehouse.connection
            rows = con.execute(
                f"""
                SELECT f.form_id, f.name, f.department, f.fiscal_year, f.form_type, f.source_file,
                       f.form_ordinal,
                       coalesce(list(DISTINCT c.check_name ORDER BY c.check_name)
                                FILTER (WHERE c.severity = 'error'), []) AS errors,
                       coalesce(list(DISTINCT c.check_name ORDER BY c.check_name)
                                FILTER (WHERE c.severity = 'warning'), []) AS warnings
                FROM store.form AS f LEFT JOIN store.check_result AS c USING (form_id)
                WHERE {where}
                GROUP BY ALL
                ORDER BY {LIST_ORDER}
                """
            ).fetchall()
            sizes = {
                key: con.execute(f"SELECT count(*) FROM store.form AS f WHERE {rule}").fetchone()[0]
                for key, (_, rule) in STATES.items()
            }
        forms = [
            {
                "form_id": form_id,
                "name": name,
                "department": department,
                "year": "" if year is None else str(year),
                "family": _family(form_type),
                "source": Path(source).name,
                "errors": errors,
                "warnings": warnings,
            }
            for form_id, name, department, year, form_type, source, _, errors, warnings in rows
        ]
        options = {
            "department": sorted({f["department"] for f in forms if f["department"]}),
            "year": sorted({f["year"] for f in forms if f["year"]}),
            "family": sorted({f["family"] for f in forms}),
            "check": sorted({c for f in forms for c in f["errors"] + f["warnings"]}),
        }
        shown = [
            f
            for f in forms
            if all(
                not chosen.get(key)
                or (
                    chosen[key] in f["errors"] + f["warnings"]
                    if key == "check"
                    else f[key] == chosen[key]
                )
                for key in FILTERS
            )
        ]
        return {
            "state": state,
            "states": STATES,
            "sizes": sizes,
            "chosen": chosen,
            "options": options,
            "total": len(forms),
            "matching": len(shown),
            "forms": shown[:LIST_LIMIT],
            "limit": LIST_LIMIT,
            "db": self.db,
        }

    def form(self, form_id: str) -> dict:
        """The form page: where it came from, its values, its failed checks and decisions."""
        with self.reading() as warehouse:
            con = warehouse.connection
            cursor = con.execute("SELECT * FROM store.form WHERE form_id = ?", [form_id])
            row = cursor.fetchone()
            if row is None:
                raise HTTPException(404, f"no form {form_id} in {self.db}")
            form = dict(zip([d[0] for d in cursor.description], row, strict=True))
            form["extra_fields"] = json.loads(form["extra_fields"] or "{}")
            funds = con.execute(
                """
                SELECT line, budget_initial, budget_full_year, budget_executed, execution_rate,
                       weight, score
                FROM store.fund_line WHERE form_id = ? ORDER BY line_ordinal
                """,
                [form_id],
            ).fetchall()
            indicators = con.execute(
                """
                SELECT row_ordinal, level1, level2, level3, target_text, actual_text, weight,
                       score, deviation_reason
                FROM store.indicator WHERE form_id = ? ORDER BY row_ordinal
                """,
                [form_id],
            ).fetchall()
            reviews = con.execute(
                "SELECT action, reviewed_by, reviewed_at, note FROM store.review "
                "WHERE form_id = ? ORDER BY reviewed_at",
                [form_id],
            ).fetchall()
            failing_rows = {
                ordinal
                for (ordinal,) in con.execute(
                    "SELECT DISTINCT row_ordinal FROM store.check_result "
                    "WHERE form_id = ? AND row_ordinal IS NOT NULL",
                    [form_id],
                ).fetchall()
            }
            waiting = [
                other
                for (other,) in con.execute(
                    f"SELECT f.form_id FROM store.form AS f WHERE {STATES['held'][1]} "
                    f"ORDER BY {LIST_ORDER}"
                ).fetchall()
            ]
            checks = failed_checks(warehouse, form_id)
            no_picture = unpictured(warehouse, form_id)
            pages = [] if no_picture else form_pages(warehouse, form_id)
        state = _state_of(form)
        return {
            "form": form,
            "state": state,
            "state_label": STATES[state][0],
            "family": _family(form["form_type"]),
            "source": form["source_file"],
            "pages": pages,
            "no_picture": no_picture,
            "funds": funds,
            "indicators": indicators,
            "failing_rows": failing_rows,
            "failing_funds": any(c.place.what.startswith("funds line") for c in checks),
            "checks": checks,
            "reviews": reviews,
            "next_held": _next(waiting, form_id),
            "reviewer": self.reviewer,
            "note": "",
            "message": None,
            "db": self.db,
        }

    def page_png(self, form_id: str, page: int) -> bytes:
        """The PNG of one page of the form (see :func:`flows.app.review.page_image`)."""
        with self.reading() as warehouse:
            try:
                image = page_image(warehouse, form_id, page, PAGE_DPI)
            except LookupError as error:
                raise HTTPException(404, str(error)) from error
            except ValueError as error:
                raise HTTPException(409, str(error)) from error
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()

    def decide(self, form_id: str, action: str, note: str, by: str) -> str | None:
        """Record a decision as ``jixiao quarantine``; the one-line reason it was not, or None."""
        if action not in DECISIONS:
            return f"unknown decision {action!r}: release or reject"
        try:
            with Warehouse.open(self.db, wait=False) as warehouse:
                warehouse.review(form_id, DECISIONS[action], note, by.strip() or self.reviewer)
        except WarehouseBusy as error:
            return f"Not recorded: {error}. Your note is kept below; decide again when it is done."
        except (LookupError, ValueError, NotAWarehouse, WarehouseTooNew, OSError) as error:
            return f"Not recorded: {error}"
        return None


def create_app(db: Path, reviewer: str) -> FastAPI:
    """The review web app over the warehouse file ``db``."""
    review = ReviewApp(db, reviewer)
    app = FastAPI(title="jixiao review", docs_url=None, redoc_url=None, openapi_url=None)

    def page(template: str, context: dict, status: int = 200) -> HTMLResponse:
        return HTMLResponse(TEMPLATES.get_template(template).render(**context), status)

    @app.middleware("http")
    async def this_machine_only(request: Request, call_next: Callable) -> Response:
        """Answer only pages asked for by this machine's name, and decisions sent from them:
        another site open in the browser cannot read the pages or post a decision. What fails
        unexpectedly is one line, on the page and in the terminal."""
        host = request.headers.get("host", "")
        if host.rsplit(":", 1)[0] not in LOCAL_NAMES:
            return page("review_error.html", {"message": f"not served to {host}"}, 421)
        origin = request.headers.get("origin")
        if request.method != "GET" and origin not in (None, f"http://{host}"):
            return page("review_error.html", {"message": f"not accepted from {origin}"}, 403)
        try:
            return await call_next(request)
        except Exception as error:
            message = f"jixiao failed: {type(error).__name__}: {error} (report it with this line)"
            print(f"jixiao review: {request.url.path}: {message}", file=sys.stderr, flush=True)
            return page("review_error.html", {"message": message}, 500)

    @app.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/forms", status_code=303)

    @app.get("/forms")
    def forms(request: Request, state: str = "held") -> HTMLResponse:
        if state not in STATES:
            raise HTTPException(404, f"no list {state!r}: {', '.join(STATES)}")
        chosen = {key: request.query_params.get(key, "") for key in FILTERS}
        return page("review_list.html", review.forms(state, chosen))

    @app.get("/forms/{form_id}")
    def form(form_id: str, decided: str = "") -> HTMLResponse:
        context = review.form(form_id)
        context["decided"] = decided if decided in DECISIONS.values() else ""
        return page("review_form.html", context)

    @app.get("/forms/{form_id}/pages/{page}.png")
    def page_png(form_id: str, page: int) -> Response:
        return Response(review.page_png(form_id, page), media_type="image/png")

    @app.post("/forms/{form_id}/review", response_model=None)
    async def decide(form_id: str, request: Request) -> HTMLResponse | RedirectResponse:
        fields = parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True)
        action, note, by = (fields.get(key, [""])[0] for key in ("action", "note", "by"))
        problem = await run_in_threadpool(review.decide, form_id, action, note, by)
        if problem is None:
            query = urlencode({"decided": DECISIONS[action]})
            return RedirectResponse(f"/forms/{form_id}?{query}", status_code=303)
        context = await run_in_threadpool(review.form, form_id)
        context.update(decided="", message=problem, note=note, reviewer=by or reviewer)
        return page("review_form.html", context, status=409)

    @app.exception_handler(HTTPException)
    def not_found(request: Request, error: HTTPException) -> HTMLResponse:
        return page("review_error.html", {"message": error.detail}, status=error.status_code)

    return app


def serve(db: Path, port: int, reviewer: str, verbose: bool = False) -> None:
    """Serve the review pages on http://127.0.0.1:PORT until interrupted (port 0: any free one);
    ``verbose`` logs every request.

    Raises OSError (EADDRINUSE) when the port is taken, before anything is served.
    """
    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen()  # from now on a browser waits for the pages instead of being refused
    except OSError:
        listener.close()
        raise
    port = listener.getsockname()[1]
    print(f"reviewing {db} on http://127.0.0.1:{port}/forms (Ctrl-C stops)", flush=True)
    config = uvicorn.Config(create_app(db, reviewer), log_level="info" if verbose else "warning")
    server = uvicorn.Server(config)
    server.run(sockets=[listener])
