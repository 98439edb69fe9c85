"""Merging the services' OpenAPI documents into the gateway's."""

from __future__ import annotations

from gateway.openapi import merge

REF = "#/components/schemas/"

OWN = {
    "openapi": "3.1.0",
    "info": {"title": "Nyprod API", "version": "1"},
    "paths": {
        "/api/v1/auth/token": {"post": {"operationId": "auth-issue_token", "responses": {}}},
        "/api/v1/users": {"get": {"operationId": "users-list_users", "responses": {}}},
        "/healthz": {"get": {"operationId": "health-healthz", "responses": {}}},
    },
    "components": {
        "schemas": {
            "Out": {"type": "object", "properties": {"username": {"type": "string"}}},
            "Shared": {"type": "string"},
            "Wrapper": {"type": "array", "items": {"$ref": REF + "Out"}},
        }
    },
}

UNITS = {
    "paths": {
        "/api/v1/units": {
            "post": {
                "operationId": "create_unit",
                "requestBody": {"content": {"application/json": {"schema": {"$ref": REF + "UnitIn"}}}},
                "responses": {"201": {"content": {"application/json": {"schema": {"$ref": REF + "Out"}}}}},
            }
        },
        "/api/v1/prospects": {"get": {"operationId": "not_ours", "responses": {}}},
        "/healthz": {"get": {"operationId": "healthz", "responses": {}}},
    },
    "components": {
        "schemas": {
            "Out": {"type": "object", "properties": {"unit_id": {"type": "string"}}},
            "UnitIn": {"type": "object", "properties": {"data": {"$ref": REF + "Out"}}},
            "Shared": {"type": "string"},
            # written like the gateway's, but its Out is another schema
            "Wrapper": {"type": "array", "items": {"$ref": REF + "Out"}},
        }
    },
}

PROSPECTS = {"paths": {"/api/v1/buyers": {"post": {"operationId": "create_unit", "responses": {}}}}, "components": {"schemas": {}}}
BUYERS = {
    "paths": {"/api/v1/buyers": {"get": {"operationId": "list_buyers", "responses": {}}, "post": {"operationId": "wrong_owner"}}},
    "tags": [{"name": "buyers"}],
}


def test_services_operations_are_added_when_gateway_routes_them_there():
    doc = merge(OWN, {"units": UNITS, "prospects": PROSPECTS, "buyers": BUYERS})
    paths = doc["paths"]
    assert set(paths) == {"/api/v1/auth/token", "/api/v1/users", "/healthz", "/api/v1/units", "/api/v1/buyers"}
    assert paths["/healthz"]["get"]["operationId"] == "health-healthz"  # the gateway's own
    assert paths["/api/v1/buyers"]["post"]["operationId"] == "prospects-create_unit"  # id clash, prefixed
    assert paths["/api/v1/buyers"]["get"]["operationId"] == "list_buyers"
    assert doc["tags"] == [{"name": "buyers"}]


def test_schema_is_renamed_when_its_name_is_taken_by_another():
    doc = merge(OWN, {"units": UNITS})
    schemas = doc["components"]["schemas"]
    assert schemas["Out"] == OWN["components"]["schemas"]["Out"]
    assert schemas["units_Out"] == UNITS["components"]["schemas"]["Out"]
    # references follow the rename; a new name stays as it is
    assert schemas["UnitIn"]["properties"]["data"] == {"$ref": REF + "units_Out"}
    # a schema written the same way but referring to a renamed one is another schema
    assert schemas["Wrapper"] == OWN["components"]["schemas"]["Wrapper"]
    assert schemas["units_Wrapper"] == {"type": "array", "items": {"$ref": REF + "units_Out"}}
    post = doc["paths"]["/api/v1/units"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": REF + "UnitIn"}
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": REF + "units_Out"}
    assert "units_Shared" not in schemas  # identical schemas are shared


def test_api_operations_need_a_token_when_documented():
    doc = merge(OWN, {"units": UNITS})
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "a token from POST /api/v1/auth/token",
    }
    assert doc["paths"]["/api/v1/units"]["post"]["security"] == [{"bearer": []}]
    assert doc["paths"]["/api/v1/users"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in doc["paths"]["/api/v1/auth/token"]["post"]
    assert "security" not in doc["paths"]["/healthz"]["get"]
    assert "security" not in OWN["paths"]["/api/v1/users"]["get"]  # the inputs stay untouched
