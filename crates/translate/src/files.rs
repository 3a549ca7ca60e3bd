//! `input_file` parts for chat providers. Sent as file parts where the provider's chat API
//! takes them; otherwise turned into text where that is faithful (a text file's content, a
//! PDF's text layer); refused, never dropped, where it is not.

use crate::dialect::Dialect;
use base64::Engine;
use plugboard_wire::chat::{ChatPart, FilePart};
use plugboard_wire::responses::FileInput;
use plugboard_wire::ParseError;

/// What a file part becomes.
#[derive(Debug, PartialEq)]
pub enum FileContent {
    /// A file part for a provider that takes them.
    Part(ChatPart),
    /// The file as text, to stand among the message's other text.
    Text(String),
}

/// Extensions read as text when the data names no media type.
const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "md",
    "markdown",
    "csv",
    "tsv",
    "json",
    "jsonl",
    "yaml",
    "yml",
    "toml",
    "xml",
    "html",
    "htm",
    "css",
    "js",
    "mjs",
    "ts",
    "tsx",
    "jsx",
    "py",
    "rs",
    "go",
    "java",
    "kt",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cs",
    "rb",
    "php",
    "swift",
    "sh",
    "bash",
    "zsh",
    "sql",
    "ini",
    "cfg",
    "conf",
    "log",
    "diff",
    "patch",
    "tex",
    "rst",
    "org",
    "lua",
    "pl",
    "r",
    "scala",
    "dart",
    "vue",
    "svelte",
    "proto",
    "graphql",
    "env",
    "gitignore",
    "dockerfile",
    "makefile",
];

/// Translates one `input_file` part; `path` names it in errors (`input[0].content[1]`).
pub fn file_content(
    f: &FileInput,
    dialect: &Dialect,
    path: &str,
) -> Result<FileContent, ParseError> {
    let refuse = |message: String| ParseError {
        path: path.to_string(),
        message,
    };
    let name = f.filename.clone();
    let shown = name.as_deref().unwrap_or("(unnamed)");
    let Some(data) = f.file_data.as_deref() else {
        let what = if f.file_id.is_some() {
            "`file_id`"
        } else if f.file_url.is_some() {
            "`file_url`"
        } else {
            "no data"
        };
        return Err(refuse(format!(
            "input_file `{shown}` has {what}: Plugboard keeps no file store and fetches nothing for a chat provider; send the file inline as `file_data`"
        )));
    };
    let (declared, payload) = split_data_url(data);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .map_err(|e| {
            refuse(format!(
                "input_file `{shown}`: `file_data` is not base64: {e}"
            ))
        })?;
    let media = declared
        .map(str::to_string)
        .unwrap_or_else(|| sniff(&bytes, name.as_deref()).to_string());
    if dialect.file_parts {
        return Ok(FileContent::Part(ChatPart::File {
            file: FilePart {
                filename: name,
                file_data: format!("data:{media};base64,{}", payload.trim()),
            },
        }));
    }
    let text = if media == "application/pdf" {
        let text = pdf_text(&bytes)
            .map_err(|e| refuse(format!("input_file `{shown}`: the PDF could not be read ({e}), and this provider's chat API takes no file parts")))?;
        if text.trim().is_empty() {
            return Err(refuse(format!(
                "input_file `{shown}`: the PDF has no text layer (a scan?), and this provider's chat API takes no file parts"
            )));
        }
        text
    } else if is_text_media(&media, name.as_deref(), &bytes) {
        String::from_utf8(bytes).map_err(|_| {
            refuse(format!("input_file `{shown}` ({media}) is not valid UTF-8 text, and this provider's chat API takes no file parts"))
        })?
    } else {
        return Err(refuse(format!(
            "input_file `{shown}` ({media}) is neither text nor a PDF, and this provider's chat API takes no file parts; choose a provider that takes files"
        )));
    };
    Ok(FileContent::Text(format!(
        "<file name=\"{shown}\">\n{}\n</file>",
        text.trim_end()
    )))
}

/// `data:<media>;base64,<payload>` → (media, payload); bare base64 → (None, all).
fn split_data_url(data: &str) -> (Option<&str>, &str) {
    match data
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','))
    {
        Some((meta, payload)) => {
            let media = meta.split(';').next().filter(|m| !m.is_empty());
            (media, payload)
        }
        None => (None, data),
    }
}

/// A media type from the content or the name, for data that declares none.
fn sniff(bytes: &[u8], name: Option<&str>) -> &'static str {
    if bytes.starts_with(b"%PDF-") {
        return "application/pdf";
    }
    if is_text_media("application/octet-stream", name, bytes) {
        return "text/plain";
    }
    "application/octet-stream"
}

fn is_text_media(media: &str, name: Option<&str>, bytes: &[u8]) -> bool {
    let media = media.to_ascii_lowercase();
    if media.starts_with("text/")
        || media.ends_with("+json")
        || media.ends_with("+xml")
        || matches!(
            media.as_str(),
            "application/json"
                | "application/xml"
                | "application/yaml"
                | "application/x-yaml"
                | "application/toml"
                | "application/javascript"
                | "application/x-sh"
                | "application/sql"
                | "application/x-ndjson"
        )
    {
        return true;
    }
    if media != "application/octet-stream" {
        return false;
    }
    let ext_is_text = name
        .map(|n| n.rsplit('.').next().unwrap_or(n).to_ascii_lowercase())
        .is_some_and(|ext| TEXT_EXTENSIONS.contains(&ext.as_str()));
    // Undeclared data counts as text when its name says so, or when it is UTF-8 with no NUL.
    ext_is_text || (!bytes.contains(&0) && std::str::from_utf8(bytes).is_ok())
}

/// The text of every page, in order.
fn pdf_text(bytes: &[u8]) -> Result<String, lopdf::Error> {
    let doc = lopdf::Document::load_mem(bytes)?;
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn file(name: &str, data: String) -> FileInput {
        FileInput {
            filename: Some(name.into()),
            file_data: Some(data),
            ..Default::default()
        }
    }

    #[test]
    fn text_files_become_text_for_providers_without_file_parts() {
        let d = Dialect::default();
        let got = file_content(
            &file(
                "notes.md",
                format!("data:text/markdown;base64,{}", b64(b"# Title\nbody\n")),
            ),
            &d,
            "p",
        )
        .unwrap();
        assert_eq!(
            got,
            FileContent::Text("<file name=\"notes.md\">\n# Title\nbody\n</file>".into())
        );
        // Bare base64 with a source file's name.
        let got = file_content(&file("main.rs", b64(b"fn main() {}")), &d, "p").unwrap();
        assert!(matches!(got, FileContent::Text(t) if t.contains("fn main() {}")));
    }

    #[test]
    fn a_pdf_becomes_its_text() {
        let pdf = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/files/report.pdf"
        ))
        .unwrap();
        let got = file_content(
            &file(
                "report.pdf",
                format!("data:application/pdf;base64,{}", b64(&pdf)),
            ),
            &Dialect::default(),
            "p",
        )
        .unwrap();
        let FileContent::Text(t) = got else {
            panic!("text expected")
        };
        assert!(t.starts_with("<file name=\"report.pdf\">\n"), "{t}");
        assert!(t.contains("Quarterly revenue grew 12 percent."), "{t}");
        assert!(t.contains("Plugboard PDF fixture."), "{t}");
        // Undeclared: recognised by its header.
        assert!(matches!(
            file_content(&file("x", b64(&pdf)), &Dialect::default(), "p").unwrap(),
            FileContent::Text(_)
        ));
    }

    #[test]
    fn providers_with_file_parts_get_the_file_as_a_data_url() {
        let d = Dialect {
            file_parts: true,
            ..Dialect::default()
        };
        let got = file_content(&file("a.pdf", b64(b"%PDF-1.4 ...")), &d, "p").unwrap();
        assert_eq!(
            got,
            FileContent::Part(ChatPart::File {
                file: FilePart {
                    filename: Some("a.pdf".into()),
                    file_data: format!("data:application/pdf;base64,{}", b64(b"%PDF-1.4 ...")),
                }
            })
        );
    }

    #[test]
    fn what_cannot_be_faithful_is_refused_with_the_part_named() {
        let d = Dialect::default();
        let png = file(
            "pic.png",
            format!(
                "data:image/png;base64,{}",
                b64(&[0x89, b'P', b'N', b'G', 0, 1])
            ),
        );
        let e = file_content(&png, &d, "input[0].content[1]").unwrap_err();
        assert_eq!(e.path, "input[0].content[1]");
        assert!(
            e.message
                .contains("`pic.png` (image/png) is neither text nor a PDF"),
            "{}",
            e.message
        );
        let by_id = FileInput {
            file_id: Some("file-1".into()),
            ..Default::default()
        };
        assert!(file_content(&by_id, &d, "p")
            .unwrap_err()
            .message
            .contains("`file_id`"));
        let broken = file(
            "x.pdf",
            format!(
                "data:application/pdf;base64,{}",
                b64(b"%PDF-1.7 not really")
            ),
        );
        assert!(file_content(&broken, &d, "p")
            .unwrap_err()
            .message
            .contains("could not be read"));
        let not_b64 = file("x.txt", "data:text/plain;base64,@@@".into());
        assert!(file_content(&not_b64, &d, "p")
            .unwrap_err()
            .message
            .contains("not base64"));
    }
}
