"""The NinjaAPI of ``/api/v1/``: routers, problem handlers and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from .problems import PROBLEM_CONTENT_TYPE, install_problem_handlers
from .routers import codes, courses, people, school, videos

DESCRIPTION = """\
The REST API of one school. Authenticate with a token the school owner creates under
*Settings → API*: `Authorization: Bearer cp_…`. A token works only on its own school's
host. Errors are RFC 9457 `application/problem+json`. Lists are cursor-paginated (follow
`next`). Every POST honours `Idempotency-Key` (24 hours). Each token has a rate limit,
reported in `RateLimit-*` headers.
"""


class SchoolApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        # Error answers are problem+json, not application/json: say so in the document,
        # so generated clients and the schema fuzzer expect the right media type.
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content")
                    if int(status) >= 400 and content and "application/json" in content:
                        response["content"] = {PROBLEM_CONTENT_TYPE: content["application/json"]}
        return schema


api = SchoolApi(
    title="Courseplatform school API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_problem_handlers(api)
api.add_router("/", school.router)
api.add_router("/", courses.router)
api.add_router("/", people.router)
api.add_router("/", people.enrollments)
api.add_router("/", codes.router)
api.add_router("/", videos.router)
