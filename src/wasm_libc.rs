//! The C allocation functions the pure-Rust JPEG 2000 decoder (`openjp2`, a C-to-Rust
//! translation) still imports. `wasm32-unknown-unknown` has no C library, so without
//! these the browser module would import them from nowhere and fail to load.
//!
//! openjp2 passes blocks between C-style `malloc`/`free` and Rust's allocator in both
//! directions, and C's `free` does not know a block's size, which Rust's allocator
//! needs. So on wasm every allocation, Rust's or C's, goes through one allocator that
//! keeps each block's size and alignment just before it, and both worlds free alike.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_char;

const WORD: usize = std::mem::size_of::<usize>();
/// The header (total size, alignment) fits in the smallest alignment used.
const MIN_ALIGN: usize = 16;

struct SizedBlocks;

#[global_allocator]
static ALLOCATOR: SizedBlocks = SizedBlocks;

unsafe fn allocate(size: usize, align: usize, zeroed: bool) -> *mut u8 {
    let align = align.max(MIN_ALIGN);
    let Some(total) = size.checked_add(align) else {
        return std::ptr::null_mut();
    };
    let Ok(layout) = Layout::from_size_align(total, align) else {
        return std::ptr::null_mut();
    };
    let base = if zeroed {
        System.alloc_zeroed(layout)
    } else {
        System.alloc(layout)
    };
    if base.is_null() {
        return base;
    }
    let block = base.add(align);
    (block.sub(2 * WORD) as *mut usize).write(total);
    (block.sub(WORD) as *mut usize).write(align);
    block
}

unsafe fn release(block: *mut u8) {
    if block.is_null() {
        return;
    }
    let total = (block.sub(2 * WORD) as *const usize).read();
    let align = (block.sub(WORD) as *const usize).read();
    System.dealloc(
        block.sub(align),
        Layout::from_size_align_unchecked(total, align),
    );
}

unsafe fn resize(block: *mut u8, size: usize) -> *mut u8 {
    if block.is_null() {
        return allocate(size, MIN_ALIGN, false);
    }
    let total = (block.sub(2 * WORD) as *const usize).read();
    let align = (block.sub(WORD) as *const usize).read();
    let moved = allocate(size, align, false);
    if !moved.is_null() {
        std::ptr::copy_nonoverlapping(block, moved, size.min(total - align));
        release(block);
    }
    moved
}

unsafe impl GlobalAlloc for SizedBlocks {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        allocate(layout.size(), layout.align(), false)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        allocate(layout.size(), layout.align(), true)
    }
    unsafe fn dealloc(&self, block: *mut u8, _layout: Layout) {
        release(block)
    }
    unsafe fn realloc(&self, block: *mut u8, _layout: Layout, new_size: usize) -> *mut u8 {
        resize(block, new_size)
    }
}

/// # Safety
/// As C's `malloc`.
#[no_mangle]
pub unsafe extern "C" fn malloc(size: usize) -> *mut u8 {
    allocate(size, MIN_ALIGN, false)
}

/// # Safety
/// As C's `calloc`.
#[no_mangle]
pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut u8 {
    match count.checked_mul(size) {
        Some(total) => allocate(total, MIN_ALIGN, true),
        None => std::ptr::null_mut(),
    }
}

/// # Safety
/// As C's `free`; a null pointer is ignored (openjp2 frees null pointers).
#[no_mangle]
pub unsafe extern "C" fn free(block: *mut u8) {
    release(block)
}

/// # Safety
/// As C's `realloc`.
#[no_mangle]
pub unsafe extern "C" fn realloc(block: *mut u8, size: usize) -> *mut u8 {
    resize(block, size)
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
