//! A small static file server for the built app, bound to loopback only. It exists so
//! that serving needs nothing beyond this binary, and so that every response carries
//! the security headers a medical page should have.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot serve {folder}: {source} (build the app first: scripts/build-web)")]
    Folder {
        folder: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on 127.0.0.1:{port}: {source} (another program may hold the port; choose another with --port)")]
    Listen { port: u16, source: std::io::Error },
}

/// Serves `root` on `127.0.0.1:port` until the process ends; `announce` receives the
/// address actually taken (port 0 lets the system choose a free one, which the test
/// scripts read back from it).
pub fn serve(root: &Path, port: u16, announce: impl FnOnce(&str)) -> Result<(), ServeError> {
    let root = root.canonicalize().map_err(|source| ServeError::Folder {
        folder: root.to_path_buf(),
        source,
    })?;
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|source| ServeError::Listen { port, source })?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    announce(&format!("http://127.0.0.1:{port}/"));
    for stream in listener.incoming().flatten() {
        let root = root.clone();
        std::thread::spawn(move || {
            let _ = respond(stream, &root);
        });
    }
    Ok(())
}

fn respond(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    // A request head is a few hundred bytes; read at most 16 KiB of it.
    let mut reader = BufReader::new(stream.try_clone()?.take(16 * 1024));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers; the body of a GET is empty.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        return write_response(&mut stream, 405, "text/plain", b"method not allowed", false);
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    match resolve(root, path).map(|file| (std::fs::read(&file), file)) {
        Some((Ok(body), file)) => {
            write_response(&mut stream, 200, content_type(&file), &body, head_only)
        }
        _ => write_response(&mut stream, 404, "text/plain", b"not found", head_only),
    }
}

/// Maps a URL path to a file under `root`, refusing anything that would leave it.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = Path::new(url_path.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let mut file = root.join(relative);
    if file.is_dir() {
        file = file.join("index.html");
    }
    file.is_file().then_some(file)
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "dcm" => "application/dicom",
        _ => "application/octet-stream",
    }
}

fn write_response(
    stream: &mut TcpStream,
    status: u16,
    kind: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    // A dedicated worker takes its policy from its script's response, not from the
    // page: scripts carry the same no-other-origin rules as the page's meta tag. The page
    // itself is governed by that (hash-sealed) meta tag; the header only forbids framing.
    let csp = if kind.starts_with("text/javascript") || kind == "application/wasm" {
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; frame-ancestors 'none'"
    } else {
        "frame-ancestors 'none'"
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let header = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\n\
         X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCross-Origin-Opener-Policy: same-origin\r\n\
         Content-Security-Policy: {csp}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A served folder with a page and a file in a sub-folder; beside it, a file that
    /// must never be reachable.
    /// A site of its own for each call: tests run in parallel, and one rewriting a
    /// shared site's index.html (truncated, then written) while another's server read it
    /// made that server send it empty (seen once in `.ci/run`).
    fn site() -> PathBuf {
        static SITES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let site = SITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base =
            std::env::temp_dir().join(format!("sarcoscope-serve-{}-{site}", std::process::id()));
        let root = base.join("dist");
        std::fs::create_dir_all(root.join("models")).unwrap();
        std::fs::write(root.join("index.html"), "<!doctype html>").unwrap();
        std::fs::write(root.join("models/card.json"), "{}").unwrap();
        std::fs::write(base.join("secret.txt"), "patient").unwrap();
        root
    }

    #[test]
    fn resolves_inside_the_folder_only() {
        let root = site();
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(
            resolve(&root, "/models/card.json"),
            Some(root.join("models/card.json"))
        );
        assert_eq!(resolve(&root, "/models/"), None, "no index.html there");
        for escape in [
            "/../secret.txt",
            "/models/../../secret.txt",
            "//etc/passwd",
            "/./index.html",
        ] {
            assert_eq!(resolve(&root, escape), None, "{escape}");
        }
        assert_eq!(resolve(&root, "/missing.js"), None);
    }

    #[test]
    fn answers_with_the_headers_and_refuses_other_methods() {
        let root = site();
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = respond(stream, &root);
            }
        });
        let ask = |request: &str| {
            let mut stream = TcpStream::connect(address).unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            let mut reply = String::new();
            stream.read_to_string(&mut reply).unwrap();
            reply
        };
        let page = ask("GET /?demo=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
        assert!(page.contains("Content-Type: text/html; charset=utf-8\r\n"));
        assert!(page.contains("X-Content-Type-Options: nosniff\r\n"));
        assert!(page.contains("Content-Security-Policy: frame-ancestors 'none'\r\n"));
        assert!(page.ends_with("\r\n\r\n<!doctype html>"));
        let head = ask("HEAD /models/card.json HTTP/1.1\r\n\r\n");
        assert!(
            head.contains("Content-Length: 2\r\n") && head.ends_with("\r\n\r\n"),
            "{head}"
        );
        assert!(ask("GET /../secret.txt HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(ask("POST / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
    }
}
