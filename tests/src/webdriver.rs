//! A small W3C WebDriver client (what tauri-driver speaks), enough to drive the settings
//! window: find, click, type, run a script, read text, take a screenshot.

use serde_json::{json, Value};
use std::time::Duration;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct WebDriver {
    http: reqwest::Client,
    base: String,
}

impl WebDriver {
    /// Opens a session on `driver_url` for the Tauri app at `application`, retrying while
    /// the driver starts.
    pub async fn start(driver_url: &str, application: &str) -> WebDriver {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": application}}}});
        let mut last = String::new();
        for _ in 0..120 {
            match http
                .post(format!("{driver_url}/session"))
                .json(&caps)
                .send()
                .await
            {
                Ok(r) => {
                    let v: Value = r.json().await.unwrap_or_default();
                    if let Some(id) = v["value"]["sessionId"].as_str() {
                        return WebDriver {
                            http,
                            base: format!("{driver_url}/session/{id}"),
                        };
                    }
                    last = v.to_string();
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("no WebDriver session: {last}");
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req
            .send()
            .await
            .expect("driver reachable")
            .json()
            .await
            .expect("driver answers JSON");
        v["value"].clone()
    }

    /// The element matching `css`, waiting up to 20 s for it to appear.
    pub async fn find(&self, css: &str) -> String {
        for _ in 0..80 {
            let v = self
                .cmd(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            if let Some(id) = v[ELEMENT].as_str() {
                return id.to_string();
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("no element matches `{css}`");
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        self.on_element(css, "click", &[("click", json!({}))]).await;
    }

    /// Replaces the value of an input.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.on_element(
            css,
            "type into",
            &[("clear", json!({})), ("value", json!({"text": text}))],
        )
        .await;
    }

    /// Sends `steps` (element command, body) to the element matching `css`; the last one
    /// must succeed. The window re-renders its lists when the state changes, so an element
    /// found a moment ago may be gone: then it is found again and the steps are repeated.
    async fn on_element(&self, css: &str, what: &str, steps: &[(&str, Value)]) {
        let mut last = Value::Null;
        for _ in 0..5 {
            let id = self.find(css).await;
            for (command, body) in steps {
                last = self
                    .cmd(
                        reqwest::Method::POST,
                        &format!("/element/{id}/{command}"),
                        Some(body.clone()),
                    )
                    .await;
            }
            if last.is_null() || last.get("error").is_none() {
                return;
            }
            if last["error"] != "stale element reference" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what} {css}: {last}");
    }

    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.cmd(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits up to 20 s for the text of `css` to contain `needle`.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..80 {
            last = self.script("const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", json!([css])).await.as_str().unwrap_or_default().to_string();
            if last.contains(needle) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("`{css}` never contained `{needle}`; last text: {last}");
    }

    /// Waits until `css`'s text no longer contains `needle`.
    pub async fn wait_text_gone(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..80 {
            last = self.script("const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", json!([css])).await.as_str().unwrap_or_default().to_string();
            if !last.contains(needle) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("`{css}` still contains `{needle}`; last text: {last}");
    }

    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 PNG"))
            .expect("valid base64")
    }

    pub async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}
