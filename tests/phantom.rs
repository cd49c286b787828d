//! The synthetic phantom: deterministic, labelled consistently with its attenuations,
//! anatomically ordered, and readable through the same ingest path as real files
//! (natively under `cargo test`, and in a browser worker under
//! `cargo test --target wasm32-unknown-unknown`).

use sarcoscope::dicom::series::{self, SeriesKind};
use sarcoscope::dicom::{read_instance, Instance};
use sarcoscope::phantom::{Grid, Level, Phantom, PhantomParams, Sex, Tissue, Vertebra};
use sarcoscope::units::{Hu, Millimetres};
use sarcoscope::volume;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// A small, coarse volume: enough anatomy to test, quick even in a debug build.
fn small(seed: u64) -> PhantomParams {
    PhantomParams {
        seed,
        grid: Grid {
            columns: 96,
            rows: 96,
            slices: 24,
            pixel_spacing: Millimetres(3.6),
            slice_spacing: Millimetres(10.0),
        },
        ..PhantomParams::default()
    }
}

/// One slice through the middle of L3, as a segmentation network would be trained on.
fn l3_only(params: PhantomParams) -> PhantomParams {
    PhantomParams {
        grid: Grid {
            slices: 1,
            ..params.grid
        },
        l3_at: 0.5,
        ..params
    }
}

fn mean_hu(phantom: &Phantom, tissue: Tissue) -> Option<f64> {
    let (sum, count) = phantom
        .hu
        .iter()
        .zip(&phantom.labels)
        .filter(|(_, &l)| l == tissue.label())
        .fold((0.0, 0usize), |(s, n), (&h, _)| (s + f64::from(h), n + 1));
    (count > 0).then(|| sum / count as f64)
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_same_seed_gives_the_same_phantom_and_another_seed_another() {
    let a = Phantom::generate(&small(11));
    let b = Phantom::generate(&small(11));
    assert!(a == b, "two runs with one seed differ");
    assert_eq!(a.dicom_files(), b.dicom_files());
    let c = Phantom::generate(&small(12));
    assert_ne!(a.hu, c.hu);
    assert_ne!(a.labels, c.labels);
    let files_a = a.dicom_files().expect("files");
    let files_c = c.dicom_files().expect("files");
    assert_ne!(files_a, files_c);
    // Different seeds are different studies: no UID is shared.
    let uids = |files: &[Vec<u8>]| -> Vec<String> {
        let i = read_instance(&files[0]).expect("header");
        vec![i.study_uid, i.series_uid, i.sop_instance_uid]
    };
    for (x, y) in uids(&files_a).iter().zip(uids(&files_c)) {
        assert_ne!(*x, y);
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn labels_agree_with_attenuation() {
    let phantom = Phantom::generate(&PhantomParams::default());
    let grid = phantom.grid();
    assert_eq!(phantom.hu.len(), grid.voxels());
    assert_eq!(phantom.labels.len(), grid.voxels());
    assert!(phantom
        .labels
        .iter()
        .all(|&l| Tissue::from_label(l).is_some()));
    let muscle = mean_hu(&phantom, Tissue::SkeletalMuscle).expect("muscle");
    let sat = mean_hu(&phantom, Tissue::Sat).expect("SAT");
    let vat = mean_hu(&phantom, Tissue::Vat).expect("VAT");
    let bone = mean_hu(&phantom, Tissue::Bone).expect("bone");
    let background = mean_hu(&phantom, Tissue::Background).expect("air");
    assert!((-29.0..=150.0).contains(&muscle), "muscle {muscle:.1} HU");
    assert!((-190.0..=-30.0).contains(&sat), "SAT {sat:.1} HU");
    assert!((-190.0..=-30.0).contains(&vat), "VAT {vat:.1} HU");
    assert!(bone > 150.0, "bone {bone:.1} HU");
    assert!(background < -800.0, "background {background:.1} HU");
    // Every tissue class is present at L3 but bowel may not be; muscle and fat areas are
    // those of an adult (cm²).
    let l3 = phantom.l3_slice().expect("L3 in the default stack");
    let area = |t| phantom.area_cm2(l3, t);
    for (tissue, lo, hi) in [
        (Tissue::SkeletalMuscle, 90.0, 250.0),
        (Tissue::Sat, 50.0, 350.0),
        (Tissue::Vat, 30.0, 300.0),
        (Tissue::Bone, 10.0, 60.0),
        (Tissue::Imat, 1.0, 40.0),
    ] {
        let a = area(tissue);
        assert!((lo..=hi).contains(&a), "{}: {a:.1} cm²", tissue.name());
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn levels_run_from_sacrum_to_t11_with_l3_about_thirty_millimetres_tall() {
    let default = Phantom::generate(&PhantomParams::default());
    let ranks: Vec<u8> = default
        .levels
        .iter()
        .map(|l| {
            l.expect("every default slice is between S1 and T11")
                .rank_from_sacrum()
        })
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    assert_eq!(
        default.levels.first(),
        Some(&Some(Level::Body(Vertebra::S1)))
    );
    assert_eq!(
        default.levels.last(),
        Some(&Some(Level::Body(Vertebra::T11)))
    );
    let spans = &default.vertebrae;
    assert_eq!(spans.len(), 8);
    assert!(spans
        .windows(2)
        .all(|w| w[0].superior_mm < w[1].inferior_mm));
    for span in spans {
        let height = span.superior_mm - span.inferior_mm;
        assert!(
            (26.0..=33.0).contains(&height),
            "{}: {height:.1} mm",
            span.vertebra
        );
    }
    // L3 is 7 or 8 slices of 4 mm, whatever the seed and sex.
    for seed in 0..12 {
        for sex in [Sex::Male, Sex::Female] {
            let params = PhantomParams {
                seed,
                sex,
                grid: Grid {
                    columns: 8,
                    rows: 8,
                    pixel_spacing: Millimetres(40.0),
                    ..Grid::default()
                },
                ..PhantomParams::default()
            };
            let phantom = Phantom::generate(&params);
            let l3 = phantom.slices_at(Level::Body(Vertebra::L3));
            assert!((7..=8).contains(&l3.len()), "seed {seed}: L3 is {l3:?}");
            assert!(l3.windows(2).all(|w| w[1] == w[0] + 1));
            let centre = phantom.l3_slice().expect("L3");
            assert!(l3.contains(&centre));
        }
    }
    // A single slice placed at L3's centre cuts L3.
    let one = Phantom::generate(&l3_only(small(5)));
    assert_eq!(one.levels, vec![Some(Level::Body(Vertebra::L3))]);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn parameters_move_the_measurements_they_name() {
    let at_l3 = |change: &dyn Fn(&mut PhantomParams)| {
        let mut params = l3_only(PhantomParams {
            seed: 21,
            ..PhantomParams::default()
        });
        change(&mut params);
        Phantom::generate(&params)
    };
    let lean = at_l3(&|p| p.habitus = 0.1);
    let heavy = at_l3(&|p| p.habitus = 0.6);
    assert!(heavy.area_cm2(0, Tissue::Sat) > 2.0 * lean.area_cm2(0, Tissue::Sat));
    assert!(heavy.area_cm2(0, Tissue::Vat) > lean.area_cm2(0, Tissue::Vat));
    assert!(heavy.weight_kg > lean.weight_kg);
    let wasted = at_l3(&|p| p.muscle_scale = 0.7);
    let normal = at_l3(&|_| {});
    assert!(
        wasted.area_cm2(0, Tissue::SkeletalMuscle)
            < 0.7 * normal.area_cm2(0, Tissue::SkeletalMuscle)
    );
    let fatty = at_l3(&|p| p.myosteatosis = 1.0);
    assert!(fatty.area_cm2(0, Tissue::Imat) > 1.5 * normal.area_cm2(0, Tissue::Imat));
    let muscle_hu = |p: &Phantom| mean_hu(p, Tissue::SkeletalMuscle).expect("muscle");
    assert!(muscle_hu(&fatty) < muscle_hu(&normal) - 15.0);
    let wet = at_l3(&|p| p.ascites = 1.0);
    assert!(wet.area_cm2(0, Tissue::Other) > normal.area_cm2(0, Tissue::Other) + 20.0);
    let quiet = at_l3(&|p| p.noise_sd = Hu(0.0));
    let sd = |p: &Phantom| {
        let fat: Vec<f64> =
            p.hu.iter()
                .zip(&p.labels)
                .filter(|(_, &l)| l == Tissue::Sat.label())
                .map(|(&h, _)| f64::from(h))
                .collect();
        let mean = fat.iter().sum::<f64>() / fat.len() as f64;
        (fat.iter().map(|h| (h - mean).powi(2)).sum::<f64>() / fat.len() as f64).sqrt()
    };
    assert!(sd(&quiet) < sd(&normal));
    // Anatomy does not depend on the flags that only change attenuation.
    let enhanced = at_l3(&|p| p.contrast = true);
    assert_eq!(enhanced.labels, normal.labels);
    assert!(mean_hu(&enhanced, Tissue::Other) > mean_hu(&normal, Tissue::Other));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn written_files_read_back_as_one_axial_ct_series_with_the_exact_volume() {
    let phantom = Phantom::generate(&PhantomParams::default());
    let grid = phantom.grid();
    let files = phantom.dicom_files().expect("writing");
    assert_eq!(files.len(), grid.slices);
    // Handed over in a deliberately non-anatomical order.
    let order: Vec<usize> = (0..files.len())
        .map(|i| (i * 37 + 11) % files.len())
        .collect();
    let shuffled: Vec<&Vec<u8>> = order.iter().map(|&i| &files[i]).collect();
    let instances: Vec<Instance> = shuffled
        .iter()
        .map(|b| read_instance(b).expect("header"))
        .collect();
    let studies = series::build(&instances);
    assert_eq!(studies.len(), 1);
    assert_eq!(studies[0].series.len(), 1);
    let s = &studies[0].series[0];
    assert_eq!(s.kind, SeriesKind::CtAxial);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.slices.len(), grid.slices);
    assert_eq!(
        (s.rows as usize, s.columns as usize),
        (grid.rows, grid.columns)
    );
    assert_eq!(s.description, "Sarcoscope synthetic demo (not a patient)");
    let geometry = s.geometry.as_ref().expect("geometry");
    assert_eq!(geometry.pixel_spacing, Some([grid.pixel_spacing.0; 2]));
    assert!((geometry.slice_spacing.unwrap_or_default() - grid.slice_spacing.0).abs() < 1e-9);
    assert_eq!(geometry.slice_thickness, Some(grid.slice_spacing.0));
    assert_eq!(series::choose_ct(&studies, &instances), Some((0, 0)));
    assert_eq!(s.patient.sex.as_deref(), Some("M"));
    assert_eq!(s.patient.age.as_deref(), Some("058Y"));
    assert_eq!(s.patient.height_m, Some(phantom.height_m));
    assert_eq!(s.patient.weight_kg, Some(phantom.weight_kg));
    assert_eq!(s.acquisition.kvp, Some(120.0));
    assert_eq!(
        s.acquisition.manufacturer.as_deref(),
        Some("Sarcoscope phantom")
    );
    let (vol, failures) =
        volume::load(s, &instances, |i| Ok(shuffled[i].clone()), |_, _| {}).expect("volume");
    assert!(failures.is_empty());
    assert!(vol.header.missing_slices.is_empty());
    assert_eq!(vol.header.slice_positions_mm, phantom.slice_positions_mm);
    assert!(
        vol.hu == phantom.hu,
        "the volume read back differs from the phantom"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn contrast_is_recorded_in_the_header() {
    let params = PhantomParams {
        contrast: true,
        sex: Sex::Female,
        age_years: 61,
        ..small(3)
    };
    let files = Phantom::generate(&params).dicom_files().expect("files");
    let inst = read_instance(&files[0]).expect("header");
    assert!(inst.acquisition.contrast_agent.is_some());
    assert_eq!(inst.patient.sex.as_deref(), Some("F"));
    assert_eq!(inst.patient.age.as_deref(), Some("061Y"));
    assert_eq!(inst.image_type, ["ORIGINAL", "PRIMARY", "AXIAL"]);
    assert_eq!(inst.modality, "CT");
    assert_eq!(
        inst.rescale.map(|r| (r.slope, r.intercept)),
        Some((1.0, -1024.0))
    );
}

/// Arms are drawn beside the trunk only: the trunk's labels stay as they were, the arms'
/// muscle and fat are not the trunk's (label "other"), and the UIDs of phantoms without
/// arms do not move (the fingerprint leaves the absent field out).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn arms_are_beside_the_trunk_and_not_its_muscle() {
    let plain = l3_only(PhantomParams {
        grid: Grid {
            columns: 160,
            ..small(4).grid
        },
        ..small(4)
    });
    let armed = PhantomParams {
        arms_gap_mm: Some(5.0),
        ..plain.clone()
    };
    assert_eq!(
        plain.fingerprint(),
        PhantomParams {
            arms_gap_mm: None,
            ..armed.clone()
        }
        .fingerprint()
    );
    assert_ne!(plain.fingerprint(), armed.fingerprint());
    let (a, b) = (Phantom::generate(&plain), Phantom::generate(&armed));
    let mut arm_pixels = 0;
    for (i, (&x, &y)) in a.labels.iter().zip(&b.labels).enumerate() {
        if x == y {
            continue;
        }
        assert_eq!(
            x,
            Tissue::Background.label(),
            "pixel {i}: the trunk changed"
        );
        assert!(
            [Tissue::Other.label(), Tissue::Bone.label()].contains(&y),
            "pixel {i}: arm labelled {y}"
        );
        arm_pixels += 1;
    }
    // Two arms of radius 38 mm (45 cm² each) on 3.6 mm pixels: about 2 × 350 pixels.
    assert!((600..=800).contains(&arm_pixels), "{arm_pixels} arm pixels");
}
