//! `sarcoscope`: the command-line face of the same core the browser app runs.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
