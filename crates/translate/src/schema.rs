//! Tool parameter schemas a strict provider accepts. Codex's tools and MCP servers' tools
//! use JSON Schema freely: `$defs` with `$ref` (Notion's server), type arrays like
//! `["boolean", "string"]` (the sequential-thinking server), `anyOf` with a `null` branch
//! (pydantic's optionals), a root `oneOf` with no root `type` (Codex turns some tools into
//! that). DeepSeek, Kimi, GLM and Gemini's OpenAI endpoint reject some of these and the
//! provider's 400 ends the session. The dialect says which rules apply; each keeps what the
//! schema asks of the arguments as far as the provider can express it.
//!
//! (Over 400 lines with its unit tests: each rule is a small recursive pass, tested beside
//! it.)

use crate::dialect::Dialect;
use serde_json::{Map, Value};

/// How deep `$ref`s are followed, and how often one definition may repeat inside itself,
/// before a recursive definition is cut short.
const MAX_REF_DEPTH: usize = 12;
const MAX_RECURSION: usize = 2;

/// Whether any rule applies (a schema is copied only then).
pub fn has_rules(d: &Dialect) -> bool {
    d.schema_object_root
        || d.schema_inline_refs
        || d.schema_single_types
        || !d.schema_drop.is_empty()
}

/// Whether any rule would change this schema: most schemas (Codex's own tools) need nothing,
/// and finding that out reads the tree without building a new one.
pub fn needs_work(schema: &Value, d: &Dialect) -> bool {
    if d.schema_object_root
        && (schema.get("type").and_then(Value::as_str) != Some("object")
            || !schema.get("properties").is_some_and(Value::is_object))
    {
        return true;
    }
    if d.schema_inline_refs
        && (schema.get("$defs").is_some() || schema.get("definitions").is_some())
    {
        return true;
    }
    node_needs_work(schema, d)
}

/// The same checks as `walk`, node by node, without changing anything.
fn node_needs_work(v: &Value, d: &Dialect) -> bool {
    let Value::Object(o) = v else {
        return v
            .as_array()
            .is_some_and(|a| a.iter().any(|x| node_needs_work(x, d)));
    };
    if d.schema_inline_refs && o.contains_key("$ref") {
        return true;
    }
    if d.schema_drop.iter().any(|k| o.contains_key(k)) {
        return true;
    }
    if d.schema_single_types {
        let null_branch = |key: &str| {
            o.get(key).and_then(Value::as_array).is_some_and(|b| {
                b.iter()
                    .any(|x| x.get("type").and_then(Value::as_str) == Some("null"))
            })
        };
        let inferable = ["properties", "items", "enum", "const"]
            .iter()
            .any(|k| o.contains_key(*k));
        match o.get("type") {
            Some(Value::String(_)) => {}
            Some(_) => return true,
            None if inferable
                && !o.contains_key("anyOf")
                && !o.contains_key("oneOf")
                && !o.contains_key("allOf") =>
            {
                return true
            }
            None => {}
        }
        if null_branch("anyOf") || null_branch("oneOf") {
            return true;
        }
    }
    o.iter().any(|(k, child)| match k.as_str() {
        "properties" | "patternProperties" => child
            .as_object()
            .is_some_and(|props| props.values().any(|p| node_needs_work(p, d))),
        "items" | "additionalProperties" | "anyOf" | "oneOf" | "allOf" | "not" | "prefixItems" => {
            node_needs_work(child, d)
        }
        _ => false,
    })
}

/// The schema as the provider accepts it.
pub fn normalise(schema: &Value, d: &Dialect) -> Value {
    let mut v = if d.schema_inline_refs {
        let defs = definitions(schema);
        let mut stack = Vec::new();
        let mut v = inline(schema, &defs, &mut stack);
        if let Some(o) = v.as_object_mut() {
            o.remove("$defs");
            o.remove("definitions");
        }
        v
    } else {
        schema.clone()
    };
    walk(&mut v, d);
    if d.schema_object_root {
        object_root(&mut v);
    }
    v
}

fn definitions(schema: &Value) -> Map<String, Value> {
    let mut defs = Map::new();
    for key in ["definitions", "$defs"] {
        if let Some(Value::Object(o)) = schema.get(key) {
            for (k, v) in o {
                defs.insert(format!("#/{key}/{k}"), v.clone());
            }
        }
    }
    defs
}

/// Every local `$ref` replaced by what it names (its sibling keywords kept on top);
/// a recursive one, past the depth limit, becomes an open object.
fn inline(node: &Value, defs: &Map<String, Value>, stack: &mut Vec<String>) -> Value {
    match node {
        Value::Object(o) => {
            if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                let repeats = stack.iter().filter(|s| *s == r).count();
                let target = defs
                    .get(r)
                    .filter(|_| repeats < MAX_RECURSION && stack.len() < MAX_REF_DEPTH);
                let mut resolved = match target {
                    Some(t) => {
                        stack.push(r.to_string());
                        let v = inline(t, defs, stack);
                        stack.pop();
                        v
                    }
                    None => serde_json::json!({"type": "object"}),
                };
                if let Value::Object(res) = &mut resolved {
                    for (k, v) in o.iter().filter(|(k, _)| *k != "$ref") {
                        res.insert(k.clone(), inline(v, defs, stack));
                    }
                }
                return resolved;
            }
            Value::Object(
                o.iter()
                    .filter(|(k, _)| *k != "$defs" && *k != "definitions")
                    .map(|(k, v)| (k.clone(), inline(v, defs, stack)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| inline(v, defs, stack)).collect()),
        other => other.clone(),
    }
}

/// The per-node rules, everywhere in the schema.
fn walk(v: &mut Value, d: &Dialect) {
    let Value::Object(o) = v else {
        if let Value::Array(a) = v {
            a.iter_mut().for_each(|x| walk(x, d));
        }
        return;
    };
    for k in &d.schema_drop {
        o.remove(k);
    }
    if d.schema_single_types {
        single_type(o);
    }
    for (k, child) in o.iter_mut() {
        match k.as_str() {
            // Maps of schemas.
            "properties" | "patternProperties" => {
                if let Value::Object(props) = child {
                    props.values_mut().for_each(|p| walk(p, d));
                }
            }
            // Schemas and lists of schemas.
            "items"
            | "additionalProperties"
            | "anyOf"
            | "oneOf"
            | "allOf"
            | "not"
            | "prefixItems" => walk(child, d),
            _ => {}
        }
    }
}

/// One type per node: `["string", "null"]` → `"string"`, an `anyOf`/`oneOf` of one schema
/// and `null` → that schema, `type: null` dropped, a missing type inferred from the node.
fn single_type(o: &mut Map<String, Value>) {
    match o.get("type") {
        Some(Value::Array(types)) => {
            let first = types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .map(str::to_string);
            match first {
                Some(t) => o.insert("type".into(), Value::String(t)),
                None => o.remove("type"),
            };
        }
        Some(Value::Null) => {
            o.remove("type");
        }
        _ => {}
    }
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = o.get(key) else {
            continue;
        };
        let non_null: Vec<&Value> = branches
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
            .collect();
        if non_null.len() == 1 && branches.len() > 1 {
            if let Value::Object(only) = non_null[0].clone() {
                o.remove(key);
                for (k, v) in only {
                    o.entry(k).or_insert(v);
                }
            }
        }
    }
    if !o.contains_key("type")
        && !o.contains_key("anyOf")
        && !o.contains_key("oneOf")
        && !o.contains_key("allOf")
    {
        if o.contains_key("properties") {
            o.insert("type".into(), "object".into());
        } else if o.contains_key("items") {
            o.insert("type".into(), "array".into());
        } else if let Some(Value::Array(values)) = o.get("enum") {
            if values.iter().all(Value::is_string) {
                o.insert("type".into(), "string".into());
            }
        } else if let Some(c) = o.get("const") {
            let t = match c {
                Value::String(_) => Some("string"),
                Value::Bool(_) => Some("boolean"),
                Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
                Value::Number(_) => Some("number"),
                _ => None,
            };
            if let Some(t) = t {
                o.insert("type".into(), t.into());
            }
        }
    }
}

/// The root as an object with properties: a union of objects becomes one object with every
/// variant's properties (required: what every variant requires), a root without a type
/// gets one.
fn object_root(v: &mut Value) {
    let Value::Object(o) = v else {
        *v = serde_json::json!({"type": "object", "properties": {}});
        return;
    };
    if o.get("type").and_then(Value::as_str) == Some("object") {
        o.entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        return;
    }
    let mut props = match o.remove("properties") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    let mut required: Option<Vec<Value>> = match o.get("required") {
        Some(Value::Array(r)) => Some(r.clone()),
        _ => None,
    };
    for (key, all) in [("allOf", true), ("anyOf", false), ("oneOf", false)] {
        let Some(Value::Array(branches)) = o.remove(key) else {
            continue;
        };
        let mut common: Option<Vec<Value>> = None;
        for b in branches {
            if let Some(Value::Object(p)) = b.get("properties") {
                for (k, s) in p {
                    props.entry(k.clone()).or_insert_with(|| s.clone());
                }
            }
            let req: Vec<Value> = b
                .get("required")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if all {
                required.get_or_insert_with(Vec::new).extend(req);
            } else {
                common = Some(match common {
                    None => req,
                    Some(c) => c.into_iter().filter(|r| req.contains(r)).collect(),
                });
            }
        }
        if let Some(c) = common {
            required.get_or_insert_with(Vec::new).extend(c);
        }
    }
    o.insert("type".into(), "object".into());
    o.insert("properties".into(), Value::Object(props));
    match required {
        Some(mut r) if !r.is_empty() => {
            r.dedup();
            o.insert("required".into(), Value::Array(r));
        }
        _ => {
            o.remove("required");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strict() -> Dialect {
        Dialect {
            schema_object_root: true,
            schema_inline_refs: true,
            schema_single_types: true,
            schema_drop: vec!["$schema".into()],
            ..Dialect::default()
        }
    }

    #[test]
    fn refs_are_inlined_with_their_siblings_and_cycles_cut() {
        let s = json!({"type": "object", "$defs": {
                "rich": {"type": "object", "properties": {"text": {"type": "string"}}},
                "node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}}}},
            "properties": {
                "title": {"type": "array", "items": {"$ref": "#/$defs/rich"}},
                "tree": {"$ref": "#/$defs/node", "description": "a tree"}}});
        let v = normalise(&s, &strict());
        assert!(
            !v.to_string().contains("$ref") && !v.to_string().contains("$defs"),
            "{v}"
        );
        assert_eq!(
            v["properties"]["title"]["items"]["properties"]["text"]["type"],
            "string"
        );
        assert_eq!(v["properties"]["tree"]["description"], "a tree");
        assert_eq!(
            v["properties"]["tree"]["properties"]["child"]["properties"]["child"]["type"],
            "object"
        );
    }

    #[test]
    fn one_type_per_node() {
        let s = json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {
            "flag": {"type": ["boolean", "string"], "description": "d"},
            "maybe": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
            "bare": {"properties": {"x": {"type": "string"}}},
            "nothing": {"type": null, "enum": ["a", "b"]},
            "fixed": {"const": "workspace"}}});
        let v = normalise(&s, &strict());
        assert!(v.get("$schema").is_none());
        assert_eq!(
            v["properties"]["flag"],
            json!({"type": "boolean", "description": "d"})
        );
        assert_eq!(
            v["properties"]["maybe"],
            json!({"type": "integer", "minimum": 1})
        );
        assert_eq!(v["properties"]["bare"]["type"], "object");
        assert_eq!(v["properties"]["nothing"]["type"], "string");
        assert_eq!(v["properties"]["fixed"]["type"], "string");
    }

    #[test]
    fn a_root_union_becomes_one_object() {
        let s = json!({"oneOf": [
            {"type": "object", "properties": {"cmd": {"type": "string"}, "cwd": {"type": "string"}}, "required": ["cmd"]},
            {"type": "object", "properties": {"cmd": {"type": "string"}, "timeout": {"type": "integer"}}, "required": ["cmd", "timeout"]}]});
        let v = normalise(&s, &strict());
        assert_eq!(v["type"], "object");
        assert_eq!(v["required"], json!(["cmd"]));
        let keys: Vec<&String> = v["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3);
        assert_eq!(
            normalise(&json!({}), &strict()),
            json!({"type": "object", "properties": {}})
        );
    }

    #[test]
    fn schemas_that_need_nothing_are_seen_as_such() {
        let fine = json!({"type": "object", "properties": {"cmd": {"type": "string"}, "env": {"type": "object", "properties": {}}}, "required": ["cmd"]});
        assert!(!needs_work(&fine, &strict()));
        assert_eq!(
            normalise(&fine, &strict()),
            fine,
            "and normalising them changes nothing"
        );
        for bad in [
            json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}}),
            json!({"type": "object", "properties": {"a": {"type": ["string", "null"]}}}),
            json!({"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}),
            json!({"type": "object", "properties": {"a": {"properties": {}}}}),
            json!({"$schema": "x", "type": "object", "properties": {}}),
            json!({"oneOf": []}),
        ] {
            assert!(needs_work(&bad, &strict()), "{bad}");
        }
    }

    #[test]
    fn no_rules_no_change() {
        let s = json!({"type": ["string", "null"], "$ref": "#/x"});
        let off = Dialect {
            schema_object_root: false,
            schema_inline_refs: false,
            ..Dialect::default()
        };
        assert!(!has_rules(&off));
        assert_eq!(normalise(&s, &off), s);
    }
}
