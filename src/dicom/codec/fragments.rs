//! Splits encapsulated pixel data (PS3.5 A.4) into one byte stream per frame.

/// Returns one codestream per frame, or `None` when the fragments cannot be split
/// into `frames` frames.
///
/// The cases, in the order the standard allows them: one frame made of all fragments;
/// one fragment per frame; the Basic Offset Table; and, without a table, a new frame at
/// every fragment that opens with a JPEG start-of-image marker.
pub fn split_frames(
    fragments: &[Vec<u8>],
    offset_table: &[u32],
    frames: usize,
) -> Option<Vec<Vec<u8>>> {
    if frames == 0 || fragments.is_empty() {
        return None;
    }
    if frames == 1 {
        return Some(vec![fragments.concat()]);
    }
    if fragments.len() == frames {
        return Some(fragments.to_vec());
    }
    if offset_table.len() == frames {
        return split_by_offsets(fragments, offset_table);
    }
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(frames.min(fragments.len()));
    for fragment in fragments {
        match out.last_mut() {
            Some(current) if !fragment.starts_with(&[0xFF, 0xD8]) => {
                current.extend_from_slice(fragment)
            }
            _ => out.push(fragment.clone()),
        }
    }
    (out.len() == frames).then_some(out)
}

/// Offsets count bytes from the first fragment's item tag, each item having an 8-byte
/// header (tag + length).
fn split_by_offsets(fragments: &[Vec<u8>], offsets: &[u32]) -> Option<Vec<Vec<u8>>> {
    let mut starts = Vec::with_capacity(fragments.len());
    let mut at = 0u64;
    for fragment in fragments {
        starts.push(at);
        at += 8 + fragment.len() as u64;
    }
    let mut out = vec![Vec::new(); offsets.len()];
    for (fragment, start) in fragments.iter().zip(starts) {
        let frame = offsets.iter().rposition(|&o| u64::from(o) <= start)?;
        out[frame].extend_from_slice(fragment);
    }
    out.iter().all(|f| !f.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_start_of_image_markers_without_offset_table() {
        let fragments = vec![vec![0xFF, 0xD8, 1], vec![2], vec![0xFF, 0xD8, 3]];
        let frames = split_frames(&fragments, &[], 2);
        assert_eq!(
            frames,
            Some(vec![vec![0xFF, 0xD8, 1, 2], vec![0xFF, 0xD8, 3]])
        );
    }

    #[test]
    fn splits_by_basic_offset_table() {
        let fragments = vec![vec![1, 2], vec![3, 4], vec![5, 6]];
        // frame 0 = fragments 0 and 1 (offset 0), frame 1 = fragment 2 (offset 20)
        let frames = split_frames(&fragments, &[0, 20], 2);
        assert_eq!(frames, Some(vec![vec![1, 2, 3, 4], vec![5, 6]]));
    }

    #[test]
    fn refuses_a_frame_count_that_does_not_fit() {
        assert_eq!(split_frames(&[vec![1]], &[], 3), None);
        assert_eq!(split_frames(&[], &[], 1), None);
    }
}
