//! `sarcoscope train --labels --ct`: fine-tuning the shipped model on a site's masks,
//! as a site would run it. The masks are the shared real CT's held-out reference labels
//! (slices 82–96, L2 to L1, never trained on by the shipped model), written as
//! Sarcoscope's PNG label maps named after their DICOM images; one more PNG of the wrong
//! size must be refused with its reason while the rest go on.
//!
//! What must hold: the folds split the one patient along the body and never test a
//! slice trained on; the starting model's cross-validated figures on those slices equal
//! the held-out figures its own card reports (the same slices, the same model, another
//! path: the masks read back through the import, placed on their images by name); the
//! new model card names its start, its data (without file names) and the SHA-256 of the
//! weights written beside it; and `sarcoscope segment --model` runs the new model.
//! Training is a few steps only: this tests the path, not the gain (the measured gain is
//! in the README, made by the command it names).

mod common;

use std::process::Command;

use serde_json::Value;

#[test]
fn fine_tunes_on_a_sites_masks_with_honest_cross_validation() {
    let Some(example) = common::shared_dir("data/ct/totalseg-example") else {
        return;
    };
    let reference = sarcoscope::segment::reference::load(&example).expect("the reference loads");
    let series = example.join("series-dicom");
    // Which file holds each slice of the series, by its position along the body.
    let mut by_z = Vec::new();
    for entry in std::fs::read_dir(&series).expect("series folder") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("CT image");
        let instance = sarcoscope::dicom::read_instance(&bytes).expect("a CT header");
        let z = instance.frame_geometry[0].position.expect("a position")[2];
        by_z.push((z, path));
    }
    let loaded = sarcoscope::ingest::folder::load_ct(&series).expect("the series");
    let positions = &loaded.volume.header.slice_positions_mm;
    let dir = std::env::temp_dir().join(format!("sarcoscope-finetune-{}", std::process::id()));
    let labels = dir.join("labels");
    std::fs::create_dir_all(&labels).expect("labels folder");
    let mut written = 0;
    for (k, slice) in &reference.tissue {
        if !(82..=96).contains(&k.0) {
            continue;
        }
        let z = positions[k.0];
        let (_, path) = by_z
            .iter()
            .find(|(at, _)| (at - z).abs() < 0.01)
            .expect("a file at the slice's position");
        let stem = path.file_stem().expect("a name").to_string_lossy();
        let png = sarcoscope::png::grey8(slice.columns, slice.rows, &slice.labels);
        std::fs::write(labels.join(format!("{stem}.png")), png).expect("PNG");
        written += 1;
    }
    assert_eq!(written, 15);
    // Traced on another image: refused, the others go on.
    std::fs::write(
        labels.join("slice0010.png"),
        sarcoscope::png::grey8(4, 4, &[1; 16]),
    )
    .expect("PNG");
    let out = dir.join("model");
    let cli = env!("CARGO_BIN_EXE_sarcoscope");
    let run = Command::new(cli)
        .args(["train", "--labels"])
        .arg(&labels)
        .arg("--ct")
        .arg(&series)
        .args([
            "--folds",
            "3",
            "--steps",
            "3",
            "--batch",
            "2",
            "--phantoms",
            "2",
        ])
        .args([
            "--eval-phantoms",
            "1",
            "--device",
            "cpu",
            "--name",
            "site-model",
            "--out",
        ])
        .arg(&out)
        .arg("--shared")
        .arg(common::shared_root())
        .output()
        .expect("sarcoscope runs");
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "train failed: {log}");
    assert!(
        log.contains(
            "slice0010.png: not used — the mask is 4×4 pixels but its CT image is 122×101"
        ),
        "the wrong-size mask is not reported: {log}"
    );
    assert!(
        log.contains("case 1 = slice00"),
        "the case list is missing: {log}"
    );

    let card: Value =
        serde_json::from_slice(&std::fs::read(out.join("site-model.json")).expect("card"))
            .expect("card JSON");
    let cv = &card["validation"]["site_cross_validation"];
    assert_eq!(cv["split"], "along_body");
    let folds = cv["folds"].as_array().expect("folds");
    assert_eq!(folds.len(), 3);
    let mut tested = 0;
    for fold in folds {
        let n = fold["tested"].as_array().expect("tested").len();
        tested += n;
        let trained = fold["trained_on"].as_u64().expect("trained_on") as usize;
        let left = fold["left_out"].as_u64().expect("left_out") as usize;
        assert_eq!(n + trained + left, 15, "{fold}");
        // Two neighbours on each side of a run of tested slices are never trained on.
        assert!(left >= 2, "{fold}");
        for tissue in ["muscle", "imat", "vat", "sat"] {
            assert_eq!(fold["before"][tissue]["slices"], n, "{tissue} {fold}");
            assert_eq!(fold["after"][tissue]["slices"], n, "{tissue} {fold}");
        }
    }
    assert_eq!(tested, 15);

    // The starting model on the same slices, through the import: its own card's figures.
    let shipped: Value = serde_json::from_slice(
        &std::fs::read(common::repository().join("models/sarcoscope-l3-unet.json")).expect("card"),
    )
    .expect("card JSON");
    for tissue in ["muscle", "vat", "sat"] {
        let before = cv["before"][tissue]["dice"].as_f64().expect("before Dice");
        let own = shipped["validation"]["real_held_out"][tissue]["dice"]
            .as_f64()
            .expect("the card's Dice");
        assert!(
            (before - own).abs() < 1e-9,
            "{tissue}: {before} against the card's {own}"
        );
        assert!(cv["after"][tissue]["dice"].as_f64().is_some(), "{tissue}");
    }

    // The reference's held-out slices were the site's masks here: the card must say its
    // reference figures are not held out from this model.
    let notes = card["validation"]["notes"].to_string();
    assert!(
        notes.contains("are NOT held out from this model"),
        "{notes}"
    );

    let data = &card["training"]["data"];
    assert_eq!(data["site"]["slices"], 15);
    assert_eq!(data["site"]["series"], 1);
    assert_eq!(data["site"]["not_used"], 1);
    let text = card.to_string();
    assert!(!text.contains("slice00"), "the card names a file");
    let started = data["started_from"].as_str().expect("started_from");
    let shipped_sha = shipped["weights"]["sha256"].as_str().expect("SHA");
    assert!(started.contains(shipped_sha), "{started}");
    assert!(card["version"]
        .as_str()
        .expect("version")
        .contains(&shipped_sha[..8]));
    let weights = std::fs::read(out.join("site-model.weights")).expect("weights");
    assert_eq!(
        card["weights"]["sha256"],
        sarcoscope::digest::sha256_hex(&weights)
    );

    let segment = Command::new(cli)
        .arg("segment")
        .arg(&series)
        .args(["--json", "--device", "cpu", "--model"])
        .arg(out.join("site-model.json"))
        .output()
        .expect("sarcoscope runs");
    assert!(
        segment.status.success(),
        "{}",
        String::from_utf8_lossy(&segment.stderr)
    );
    let report: Value = serde_json::from_slice(&segment.stdout).expect("segment JSON");
    assert_eq!(
        report["model"],
        format!(
            "site-model {}",
            card["version"].as_str().unwrap_or_default()
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}
