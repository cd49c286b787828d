//! `sarcoscope-serve FOLDER [--port N]`: serves the built app (dist/) on loopback.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: sarcoscope-serve FOLDER [--port N]   (serves FOLDER, such as dist/, \
on http://127.0.0.1:N/ only; N = 8080 by default, 0 = any free port, printed on start)";

fn main() -> ExitCode {
    let mut folder = None;
    let mut port = 8080;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => return usage("--port needs a number from 0 to 65535"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if folder.is_none() && !arg.starts_with('-') => folder = Some(PathBuf::from(arg)),
            _ => return usage(&format!("unexpected argument {arg:?}")),
        }
    }
    let Some(folder) = folder else {
        return usage("which folder? (the built app, such as dist/)");
    };
    let announce = |url: &str| {
        println!("Sarcoscope is served at {url} (this computer only; Ctrl+C stops it)");
    };
    match sarcoscope_serve::serve(&folder, port, announce) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sarcoscope-serve: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("sarcoscope-serve: {problem}\n{USAGE}");
    ExitCode::from(2)
}
