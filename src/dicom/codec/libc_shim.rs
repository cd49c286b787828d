//! The C allocation functions the pure-Rust JPEG 2000 decoder (`openjp2`, a C-to-Rust
//! translation) still imports. `wasm32-unknown-unknown` has no C library, so without
//! these the browser module would import them from nowhere and fail to load. They sit
//! on Rust's allocator, with the size kept in a 16-byte header as `free` needs it.

use std::alloc::{alloc, alloc_zeroed, dealloc, realloc as grow, Layout};
use std::ffi::c_char;

const HEADER: usize = 16;

unsafe fn allocate(size: usize, zeroed: bool) -> *mut u8 {
    let Some(total) = size.checked_add(HEADER) else { return std::ptr::null_mut() };
    let Ok(layout) = Layout::from_size_align(total, HEADER) else { return std::ptr::null_mut() };
    let base = if zeroed { alloc_zeroed(layout) } else { alloc(layout) };
    if base.is_null() {
        return base;
    }
    (base as *mut usize).write(total);
    base.add(HEADER)
}

/// # Safety
/// As C's `malloc`.
#[no_mangle]
pub unsafe extern "C" fn malloc(size: usize) -> *mut u8 {
    allocate(size, false)
}

/// # Safety
/// As C's `calloc`.
#[no_mangle]
pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut u8 {
    match count.checked_mul(size) {
        Some(total) => allocate(total, true),
        None => std::ptr::null_mut(),
    }
}

/// # Safety
/// As C's `free`; a null pointer is ignored (openjp2 frees null pointers).
#[no_mangle]
pub unsafe extern "C" fn free(ptr: *mut u8) {
    if ptr.is_null() {
        return;
    }
    let base = ptr.sub(HEADER);
    let total = (base as *const usize).read();
    dealloc(base, Layout::from_size_align_unchecked(total, HEADER));
}

/// # Safety
/// As C's `realloc`.
#[no_mangle]
pub unsafe extern "C" fn realloc(ptr: *mut u8, size: usize) -> *mut u8 {
    if ptr.is_null() {
        return malloc(size);
    }
    let Some(new_total) = size.checked_add(HEADER) else { return std::ptr::null_mut() };
    let base = ptr.sub(HEADER);
    let total = (base as *const usize).read();
    let moved = grow(base, Layout::from_size_align_unchecked(total, HEADER), new_total);
    if moved.is_null() {
        return moved;
    }
    (moved as *mut usize).write(new_total);
    moved.add(HEADER)
}

/// # Safety
/// As C's `strcpy`.
#[no_mangle]
pub unsafe extern "C" fn strcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    let mut i = 0;
    loop {
        let c = *src.add(i);
        *dst.add(i) = c;
        if c == 0 {
            return dst;
        }
        i += 1;
    }
}
