//! A small static file server for the built app, bound to loopback only. It exists so
//! that serving needs nothing beyond this binary, and so that every response carries
//! the security headers a medical page should have.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};

pub fn serve(root: &Path, port: u16) -> Result<(), super::Failure> {
    let root = root
        .canonicalize()
        .map_err(|e| format!("cannot serve {}: {e}", root.display()))?;
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    // Port 0 lets the system choose a free port; say which one was taken.
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    out!("Sarcoscope is served at http://127.0.0.1:{port}/ (this computer only; Ctrl+C stops it)");
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
    if method != "GET" && method != "HEAD" {
        return write_response(
            &mut stream,
            405,
            "text/plain",
            b"method not allowed",
            method == "HEAD",
        );
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    match resolve(root, path) {
        Some(file) => match std::fs::read(&file) {
            Ok(body) => write_response(
                &mut stream,
                200,
                content_type(&file),
                &body,
                method == "HEAD",
            ),
            Err(_) => write_response(
                &mut stream,
                404,
                "text/plain",
                b"not found",
                method == "HEAD",
            ),
        },
        None => write_response(
            &mut stream,
            404,
            "text/plain",
            b"not found",
            method == "HEAD",
        ),
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
