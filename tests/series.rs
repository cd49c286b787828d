//! A real CT series (112 axial slices, 122×101 pixels, 3 mm apart; slice0000.dcm is the
//! most inferior, ImagePositionPatient z = 94.3018 + 3k, HU = stored − 1024): grouping,
//! ordering and volume loading, then quality checks on edited copies of its headers.

mod common;

use std::path::{Path, PathBuf};

use sarcoscope::dicom::series::{self, Series, SeriesKind, SeriesWarning};
use sarcoscope::dicom::{self, pixels, DicomError, Instance};
use sarcoscope::volume::{self, FileData, Volume};

const ROWS: u32 = 101;
const COLUMNS: u32 = 122;
const SPACING_MM: f64 = 3.0;
/// ImagePositionPatient z of slice0000.dcm as written in the file (labels.json rounds
/// it to 94.30).
const FIRST_Z_MM: f64 = 94.3018;

struct RealSeries {
    paths: Vec<PathBuf>,
    instances: Vec<Instance>,
}

/// The slices in file-name order (slice k is `instances[k]`), or `None` when the data set
/// is missing.
fn real_series() -> Option<RealSeries> {
    let dir = common::shared_dir(common::SERIES_DIR)?;
    let paths: Vec<PathBuf> = (0..common::SERIES_SLICES)
        .map(|k| common::slice_path(&dir, k))
        .collect();
    let instances = paths
        .iter()
        .map(|p| common::instance_of(&common::read(p)))
        .collect();
    Some(RealSeries { paths, instances })
}

/// The single series built from `instances`, checked to be the only one and chosen.
impl RealSeries {
    /// `s`'s volume as `volume::load` makes it from the files, the reference the
    /// worker's other ways of decoding are held to.
    fn volume(&self, s: &Series) -> Volume {
        let read = |file: usize| {
            std::fs::read(&self.paths[file]).map_err(|e| DicomError::Unreadable(e.to_string()))
        };
        let (volume, failures) =
            volume::load(s, &self.instances, read, |_, _| {}).expect("a volume");
        assert!(failures.is_empty(), "{failures:?}");
        volume
    }
}

fn only_series(instances: &[Instance]) -> Series {
    let studies = series::build(instances);
    assert_eq!(studies.len(), 1, "one study");
    assert_eq!(studies[0].series.len(), 1, "one series");
    assert_eq!(
        series::choose_ct(&studies, instances),
        Some((0, 0)),
        "the series is chosen"
    );
    studies[0].series[0].clone()
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap()
}

/// Slice k's z position; slices are axial with an identity orientation here.
fn z_of(instance: &Instance) -> f64 {
    instance.frame_geometry[0].position.expect("a position")[2]
}

#[test]
fn real_series_is_one_axial_ct_stack() {
    let Some(real) = real_series() else { return };
    let s = only_series(&real.instances);
    assert_eq!(s.kind, SeriesKind::CtAxial);
    assert_eq!(s.modality, "CT");
    assert_eq!(s.files.len(), common::SERIES_SLICES);
    assert_eq!(s.slices.len(), common::SERIES_SLICES);
    assert_eq!((s.rows, s.columns), (ROWS, COLUMNS));
    assert!(
        s.warnings.is_empty(),
        "no warnings expected: {:?}",
        s.warnings
    );
    let geometry = s.geometry.as_ref().expect("geometry");
    let spacing = geometry.slice_spacing.expect("slice spacing");
    assert!(
        (spacing - SPACING_MM).abs() < 1e-6,
        "slice spacing {spacing}"
    );
    let [row, column] = geometry.pixel_spacing.expect("pixel spacing");
    assert!(
        (row - 3.0).abs() < 1e-6 && (column - 3.0).abs() < 1e-6,
        "pixel spacing {row} × {column}"
    );
    assert!(
        geometry.normal[2] > 0.99,
        "normal points to the head: {:?}",
        geometry.normal
    );
    for (k, slice) in s.slices.iter().enumerate() {
        assert_eq!(slice.file, k, "slice {k} comes from slice{k:04}.dcm");
        assert_eq!(slice.frame, 0);
        let expected = FIRST_Z_MM + SPACING_MM * k as f64;
        assert!(
            (slice.along_normal.0 - expected).abs() < 1e-3,
            "slice {k} at {}",
            slice.along_normal.0
        );
    }
}

#[test]
fn shuffled_files_give_the_same_order() {
    let Some(real) = real_series() else { return };
    for seed in [1, 2, 0x5eed] {
        let mut order: Vec<usize> = (0..real.instances.len()).collect();
        common::Lcg::new(seed).shuffle(&mut order);
        assert_ne!(
            order,
            (0..real.instances.len()).collect::<Vec<_>>(),
            "the shuffle shuffles"
        );
        let instances: Vec<Instance> = order.iter().map(|&i| real.instances[i].clone()).collect();
        let s = only_series(&instances);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        let names: Vec<&str> = s
            .slices
            .iter()
            .map(|slice| file_name(&real.paths[order[slice.file]]))
            .collect();
        let expected: Vec<String> = (0..common::SERIES_SLICES)
            .map(|k| format!("slice{k:04}.dcm"))
            .collect();
        assert_eq!(names, expected, "seed {seed}");
    }
}

#[test]
fn volume_holds_hounsfield_units_of_each_file() {
    let Some(real) = real_series() else { return };
    let s = only_series(&real.instances);
    let mut reads = 0;
    let mut last_progress = (0, 0);
    let (volume, failures) = volume::load(
        &s,
        &real.instances,
        |file| {
            reads += 1;
            std::fs::read(&real.paths[file]).map_err(|e| DicomError::Unreadable(e.to_string()))
        },
        |done, total| last_progress = (done, total),
    )
    .expect("a volume");
    assert!(failures.is_empty(), "{:?}", failures);
    assert_eq!(reads, common::SERIES_SLICES, "each file is read once");
    assert_eq!(
        last_progress,
        (common::SERIES_SLICES, common::SERIES_SLICES)
    );
    let h = &volume.header;
    assert_eq!(
        (h.columns, h.rows, h.slices),
        (COLUMNS as usize, ROWS as usize, common::SERIES_SLICES)
    );
    assert!(h.missing_slices.is_empty());
    assert_eq!(volume.hu.len(), h.columns * h.rows * h.slices);
    for (k, z) in h.slice_positions_mm.iter().enumerate() {
        assert!(
            (z - (FIRST_Z_MM + SPACING_MM * k as f64)).abs() < 1e-3,
            "slice {k} at {z}"
        );
    }

    // Pixels (column, row, slice) checked against the file decoded on its own.
    let probes = [
        (0, 0, 0),
        (61, 50, 0),
        (121, 100, 0),
        (30, 70, 37),
        (61, 50, 56),
        (100, 20, 90),
        (61, 50, 111),
    ];
    for (column, row, slice) in probes {
        let bytes = common::read(&real.paths[slice]);
        let parsed = dicom::open(&bytes).expect("opens");
        let instance = &real.instances[slice];
        let stored = pixels::decode_stored(&parsed, instance).expect("decodes");
        let value = stored.frame(0).unwrap()[row * COLUMNS as usize + column];
        let hu = volume.hu_at(column, row, slice);
        if instance.padding_value == Some(value) {
            assert_eq!(hu, None, "padding at {column},{row},{slice}");
        } else {
            assert_eq!(
                hu.map(|h| h.0),
                Some(f64::from(value - 1024)),
                "HU at {column},{row},{slice}"
            );
        }
    }
    // The body is in the middle of the field: soft tissue, not air.
    let centre = volume.hu_at(61, 50, 56).expect("data at the centre").0;
    assert!((-200.0..=400.0).contains(&centre), "centre HU {centre}");
    assert_eq!(
        volume.hu_at(COLUMNS as usize, 0, 0),
        None,
        "outside the volume"
    );
    if real.instances.iter().all(|i| i.padding_value.is_none()) {
        assert!(
            volume.hu.iter().all(|&v| v != Volume::NO_DATA),
            "every voxel holds data"
        );
    }
}

/// The browser's worker parses each file of a small set once, for its header and then its
/// images (`dicom::read_parsed`, `Loader::add_file`), in the order the files arrive: the
/// same headers and the same volume as reading them twice, in order.
#[test]
fn files_parsed_once_give_the_same_headers_and_volume() {
    let Some(real) = real_series() else { return };
    let s = only_series(&real.instances);
    let twice = real.volume(&s);
    let parsed: Vec<_> = real
        .paths
        .iter()
        .map(|p| dicom::read_parsed(&common::read(p)).expect("parses"))
        .collect();
    for ((instance, _), expected) in parsed.iter().zip(&real.instances) {
        assert_eq!(instance, expected);
    }
    let mut loader = volume::Loader::new(&s, &real.instances).expect("a volume");
    let mut watched = Vec::new();
    // Arrival order: last file first, then the rest.
    let order = std::iter::once(parsed.len() - 1).chain(0..parsed.len() - 1);
    for file in order {
        let data = FileData::Parsed(&parsed[file].1);
        loader.add_file(file, Ok(data), |slice, hu| watched.push((slice, hu.len())));
    }
    let (once, failures) = loader.finish();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(once.header, twice.header);
    assert!(once.hu == twice.hu, "the same voxels");
    let slice_len = (ROWS * COLUMNS) as usize;
    assert_eq!(
        watched.len(),
        common::SERIES_SLICES,
        "each slice shown once"
    );
    assert!(watched.iter().all(|&(_, len)| len == slice_len));
    // A file that could not be parsed fails alone, with its reason.
    let mut loader = volume::Loader::new(&s, &real.instances).expect("a volume");
    loader.add_file(3, Err(DicomError::EndsEarly), |_, _| {});
    let (_, failures) = loader.finish();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        (failures[0].file, &failures[0].error),
        (3, &DicomError::EndsEarly)
    );
}

/// The browser's worker decodes each file of a set as the page reads it, into the slot of
/// its place in the set, before it knows the series (`volume::Early`): with the set in
/// the reverse of the series' order and the files arriving shuffled, placing the slices
/// gives the volume that loading the series gives, and each slice's `watch` result.
#[test]
fn files_decoded_as_they_arrive_are_placed_into_the_series_volume() {
    let Some(real) = real_series() else { return };
    let s = only_series(&real.instances);
    let expected = real.volume(&s);
    let n = real.instances.len();
    let slice_len = (ROWS * COLUMNS) as usize;
    // Instance k is file n − 1 − k of the set.
    let in_set: Vec<usize> = (0..n).map(|k| n - 1 - k).collect();
    let bytes: Vec<Vec<u8>> = real.paths.iter().map(|p| common::read(p)).collect();
    let early = |extra_files: usize, lost: Option<usize>| {
        let files = n + extra_files;
        let voxels = vec![0i16; files * slice_len];
        let mut early = volume::Early::new(voxels, files, ROWS, COLUMNS).expect("its size");
        // Only single images of the set's size have a slot.
        let first = &real.instances[0];
        for other in [
            Instance {
                frames: 2,
                ..first.clone()
            },
            Instance {
                rows: ROWS + 1,
                ..first.clone()
            },
        ] {
            assert!(!early.fits(0, &other));
        }
        let mut arrival: Vec<usize> = (0..n).collect();
        common::Lcg::new(7).shuffle(&mut arrival);
        for k in arrival {
            assert!(early.fits(in_set[k], &real.instances[k]), "file {k}");
            let data = match lost {
                Some(l) if l == k => &bytes[k][..bytes[k].len() / 2],
                _ => &bytes[k][..],
            };
            let sum = |hu: &[i16]| hu.iter().map(|&v| i64::from(v)).sum::<i64>();
            let decoded = early.add(in_set[k], &real.instances[k], FileData::Bytes(data), sum);
            assert_eq!(decoded, Some(k) != lost, "file {k}");
            // A slot filled takes nothing more; one whose file failed is still free.
            assert_eq!(early.fits(in_set[k], &real.instances[k]), !decoded);
        }
        early
    };
    let placed = early(0, None)
        .place(&s, &real.instances, &in_set)
        .expect("placed");
    assert!(placed.decoded.iter().all(|&d| d));
    let seen = placed.seen;
    let (volume, failures) = placed.loader.finish();
    assert!(failures.is_empty());
    assert_eq!(volume.header, expected.header);
    assert!(volume.hu == expected.hu, "the same voxels");
    for (slice, seen) in seen.iter().enumerate() {
        let hu = &expected.hu[slice * slice_len..(slice + 1) * slice_len];
        let sum: i64 = hu.iter().map(|&v| i64::from(v)).sum();
        assert_eq!(*seen, Some(sum), "slice {slice}");
    }

    // A file cut short is not decoded early; added as usual, it fails alone.
    let lost = 40;
    let mut placed = early(0, Some(lost))
        .place(&s, &real.instances, &in_set)
        .expect("placed");
    assert_eq!(placed.decoded.iter().filter(|&&d| !d).count(), 1);
    assert!(!placed.decoded[lost]);
    placed
        .loader
        .add(lost, Ok(&bytes[lost][..bytes[lost].len() / 2]));
    let (volume, failures) = placed.loader.finish();
    assert_eq!(failures.len(), 1);
    assert_eq!(volume.header.missing_slices.len(), 1);
    let missing = volume.header.missing_slices[0].0;
    for slice in (0..n).filter(|&slice| slice != missing) {
        let run = slice * slice_len..(slice + 1) * slice_len;
        assert_eq!(volume.hu[run.clone()], expected.hu[run], "slice {slice}");
    }

    // A set with a file the series does not have: the voxels come back, untouched in size.
    match early(1, None).place(&s, &real.instances, &in_set) {
        Err(Some(voxels)) => assert_eq!(voxels.len(), (n + 1) * slice_len),
        _ => panic!("a series of fewer files than the set is not placed"),
    }
}

/// Copies of the real headers, edited to make each irregularity series QC must report.
mod quality_checks {
    use super::*;

    fn warnings_of(instances: &[Instance]) -> (Series, Vec<SeriesWarning>) {
        let studies = series::build(instances);
        assert_eq!(studies.len(), 1);
        assert_eq!(studies[0].series.len(), 1);
        let s = studies[0].series[0].clone();
        let warnings = s.warnings.clone();
        (s, warnings)
    }

    #[test]
    fn missing_slice_is_a_gap() {
        let Some(mut real) = real_series() else {
            return;
        };
        real.instances.remove(50);
        let (s, warnings) = warnings_of(&real.instances);
        assert_eq!(s.slices.len(), common::SERIES_SLICES - 1);
        let gap = warnings.iter().find_map(|w| match w {
            SeriesWarning::Gap {
                after_slice,
                gap_mm,
                usual_mm,
            } => Some((*after_slice, *gap_mm, *usual_mm)),
            _ => None,
        });
        let (after, gap, usual) = gap.unwrap_or_else(|| panic!("a gap warning: {warnings:?}"));
        assert_eq!(after, 49);
        assert!(
            (gap - 6.0).abs() < 1e-3 && (usual - 3.0).abs() < 1e-3,
            "gap {gap} usual {usual}"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn duplicate_position_is_dropped() {
        let Some(mut real) = real_series() else {
            return;
        };
        let mut copy = real.instances[10].clone();
        copy.sop_instance_uid.push_str(".99");
        real.instances.push(copy);
        let (s, warnings) = warnings_of(&real.instances);
        assert_eq!(
            warnings,
            vec![SeriesWarning::DuplicatePositions { count: 1 }]
        );
        assert_eq!(s.slices.len(), common::SERIES_SLICES);
        assert_eq!(
            s.files.len(),
            common::SERIES_SLICES + 1,
            "the duplicate stays listed in the series"
        );
    }

    #[test]
    fn slice_of_another_size_is_set_aside() {
        let Some(mut real) = real_series() else {
            return;
        };
        real.instances[111].rows = 100;
        let (s, warnings) = warnings_of(&real.instances);
        assert_eq!(
            warnings,
            vec![SeriesWarning::MixedSizes {
                count: 1,
                rows: ROWS,
                columns: COLUMNS
            }]
        );
        assert_eq!(s.slices.len(), common::SERIES_SLICES - 1);
        assert_eq!((s.rows, s.columns), (ROWS, COLUMNS));
        assert!(s.slices.iter().all(|slice| slice.file != 111));
    }

    #[test]
    fn localizer_in_series_is_set_aside() {
        let Some(mut real) = real_series() else {
            return;
        };
        let mut scout = real.instances[0].clone();
        scout.image_type = vec!["ORIGINAL".into(), "PRIMARY".into(), "LOCALIZER".into()];
        scout.frame_geometry[0].position = Some([0.0, 0.0, 250.5]);
        scout.frame_geometry[0].orientation = Some([1.0, 0.0, 0.0, 0.0, 0.0, -1.0]);
        real.instances.insert(0, scout);
        let (s, warnings) = warnings_of(&real.instances);
        assert_eq!(
            warnings,
            vec![SeriesWarning::LocalizersInSeries { count: 1 }]
        );
        assert_eq!(s.kind, SeriesKind::CtAxial);
        assert_eq!(s.slices.len(), common::SERIES_SLICES);
        assert!(
            s.slices.iter().all(|slice| slice.file != 0),
            "the localizer is no slice"
        );
    }

    #[test]
    fn reversed_order_still_starts_inferior() {
        let Some(real) = real_series() else { return };
        // Files listed head first, as many scanners number them.
        let reversed: Vec<Instance> = real.instances.iter().rev().cloned().collect();
        let (s, warnings) = warnings_of(&reversed);
        assert!(warnings.is_empty(), "{warnings:?}");
        let order: Vec<usize> = s
            .slices
            .iter()
            .map(|slice| common::SERIES_SLICES - 1 - slice.file)
            .collect();
        assert_eq!(order, (0..common::SERIES_SLICES).collect::<Vec<_>>());

        // Column direction flipped, so that row × column points to the feet: the normal
        // is turned towards the head and slice 0 stays the most inferior.
        let mut flipped = reversed.clone();
        for instance in &mut flipped {
            instance.frame_geometry[0].orientation = Some([1.0, 0.0, 0.0, 0.0, -1.0, 0.0]);
        }
        let (s, warnings) = warnings_of(&flipped);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(s.geometry.as_ref().unwrap().normal[2] > 0.99);
        let z: Vec<f64> = s
            .slices
            .iter()
            .map(|slice| z_of(&flipped[slice.file]))
            .collect();
        assert!(
            z.windows(2).all(|w| w[0] < w[1]),
            "z increases from slice 0"
        );
        assert!((z[0] - FIRST_Z_MM).abs() < 1e-3);
    }

    #[test]
    fn series_without_positions_is_in_file_order() {
        let Some(mut real) = real_series() else {
            return;
        };
        for instance in &mut real.instances {
            for geometry in &mut instance.frame_geometry {
                geometry.position = None;
            }
        }
        let (s, warnings) = warnings_of(&real.instances);
        assert_eq!(warnings, vec![SeriesWarning::NoPositions]);
        assert_eq!(s.slices.len(), common::SERIES_SLICES);
        let files: Vec<usize> = s.slices.iter().map(|slice| slice.file).collect();
        assert_eq!(files, (0..common::SERIES_SLICES).collect::<Vec<_>>());
        // Without positions distances along the body fall back to the slice thickness.
        let geometry = s.geometry.as_ref().unwrap();
        assert_eq!(geometry.slice_spacing, geometry.slice_thickness);
    }
}
