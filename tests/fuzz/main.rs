//! `sarcoscope-fuzz TARGET`: one AFL++ persistent-mode target per kind of file a user
//! can give Sarcoscope (see `targets.rs`); `sarcoscope-fuzz seeds DIR` writes the seeds
//! that are not files of `../shared` (a small model, tables, label maps).

#[path = "targets.rs"]
mod targets;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(name) = args.get(1) else {
        eprintln!(
            "usage: sarcoscope-fuzz {{{}}} | seeds DIR",
            targets::NAMES.join("|")
        );
        std::process::exit(2);
    };
    if name == "seeds" {
        let Some(dir) = args.get(2) else {
            eprintln!("usage: sarcoscope-fuzz seeds DIR");
            std::process::exit(2);
        };
        if let Err(e) = targets::write_seeds(std::path::Path::new(dir)) {
            eprintln!("cannot write the seeds: {e}");
            std::process::exit(1);
        }
        return;
    }
    let Some(target) = targets::by_name(name) else {
        eprintln!(
            "no target {name}; the targets: {}",
            targets::NAMES.join(", ")
        );
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| target(data));
}
