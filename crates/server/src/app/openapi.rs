//! The OpenAPI 3.1 document of the API, served at `/api/openapi.json`.
//! Built from the route table itself — paths, methods, who may call them,
//! request body schemas (derived from the handlers' body types) and example
//! bodies — so it cannot drift from the routes that exist.

use super::{Access, routes};
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// The JSON Schema of `T`, without the meta-schema line.
pub fn schema_of<T: schemars::JsonSchema>() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
    if let Some(map) = schema.as_object_mut() {
        map.remove("$schema");
    }
    schema
}

fn problem_schema() -> Value {
    json!({
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"}
        }
    })
}

fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_lowercase();
    for part in path
        .split('/')
        .filter(|p| !p.is_empty() && *p != "api" && *p != "v1")
    {
        id.push('_');
        id.extend(
            part.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    id
}

fn build() -> Value {
    let mut paths = Map::new();
    for (spec, _) in routes() {
        let method = spec.method.as_str().to_lowercase();
        let mut op = Map::new();
        op.insert(
            "operationId".into(),
            json!(operation_id(&method, spec.path)),
        );
        let who = match spec.access {
            Access::Public => "anyone".to_owned(),
            Access::Pending => "a signed-in user (also before MFA or a password change)".to_owned(),
            Access::Needs(p) => {
                format!("a user whose role (and token scope) allows `{}`", p.scope())
            }
            Access::Device => {
                "an enrolled device (Bearer device credential); a WebSocket".to_owned()
            }
            Access::Grant => "a session member (Bearer grant from the control plane)".to_owned(),
            Access::Operator => "the platform operator (Bearer operator token)".to_owned(),
        };
        op.insert(
            "description".into(),
            json!(format!("Who may call it: {who}.")),
        );
        op.insert(
            "security".into(),
            match spec.access {
                Access::Public => json!([]),
                Access::Device => json!([{"device": []}]),
                Access::Grant => json!([{"grant": []}]),
                Access::Operator => json!([{"operator": []}]),
                _ => json!([{"session": []}, {"token": []}]),
            },
        );
        if spec.path.contains("{id}") {
            op.insert(
                "parameters".into(),
                json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]),
            );
        }
        if let Some(schema) = spec.body {
            let example: Value = serde_json::from_str(spec.example).unwrap_or(Value::Null);
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": schema(), "example": example}}}),
            );
        }
        op.insert(
            "responses".into(),
            json!({
                "2XX": {"description": "Success (JSON, or no content)."},
                "4XX": {"description": "Refused.", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            }),
        );
        let entry = paths
            .entry(spec.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(map) = entry.as_object_mut() {
            map.insert(method, Value::Object(op));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Fernhand control plane",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Accounts, sign-in with MFA, API tokens, attended sessions, unattended devices, audit and security logs. Errors are application/problem+json."
        },
        "paths": paths,
        "components": {
            "schemas": {"Problem": problem_schema()},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "fh_session", "description": "Browser session; writes also need the X-CSRF-Token header."},
                "token": {"type": "http", "scheme": "bearer", "description": "API token fh_<tenant>_<secret>."},
                "device": {"type": "http", "scheme": "bearer", "description": "Device credential fhd_<tenant>_<secret>."},
                "grant": {"type": "http", "scheme": "bearer", "description": "A member's grant for one session (from session creation, join or connect)."},
                "operator": {"type": "http", "scheme": "bearer", "description": "Platform-operator token fho_<secret> (fernhand admin operator-token)."}
            }
        }
    })
}

/// The document (built once).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_with_its_body_schema_and_a_valid_example() {
        let doc = document();
        for (spec, _) in routes() {
            let op = &doc["paths"][spec.path][spec.method.as_str().to_lowercase()];
            assert!(op.is_object(), "{} {} missing", spec.method, spec.path);
            if spec.body.is_some() {
                let body = &op["requestBody"]["content"]["application/json"];
                assert_eq!(body["schema"]["type"], "object", "{}", spec.path);
                assert!(body["example"].is_object(), "{} example parses", spec.path);
                // The example names only properties the schema knows.
                for key in body["example"].as_object().unwrap().keys() {
                    assert!(
                        body["schema"]["properties"].get(key).is_some(),
                        "{} {key}",
                        spec.path
                    );
                }
            }
        }
        assert_eq!(
            doc["paths"]["/api/v1/users/{id}"]["get"]["parameters"][0]["in"],
            "path"
        );
    }
}
