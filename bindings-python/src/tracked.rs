//! `_TrackedDict`: the dict that `sessile.starlette.Session` is built on, which records
//! whether the app read the session (`accessed`: the response then carries `Vary: Cookie`)
//! or changed it (`modified`), as Starlette's `Session` does, but in native slots: a
//! `session[key] = value` is the dict's own store plus two flags, not a Python
//! `__setitem__` (the profile's largest Python cost left in the ASGI glue), and
//! `mark_accessed()` (which Starlette's `request.session` calls on every access) is a
//! native method.
//!
//! pyo3 cannot subclass `dict` under the stable ABI before Python 3.12, so the type is
//! made with `PyType_FromSpecWithBases`: the instance is the dict's own layout (its size
//! read from `dict.__basicsize__` at run time) plus the two flag bytes, which hold no
//! object (so the dict's traversal and the heap type's default dealloc are all it needs).

use std::ffi::{c_int, c_long, c_uint, c_void};
use std::ptr;
use std::sync::atomic::{AtomicIsize, Ordering};

use pyo3::exceptions::PyRuntimeError;
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// Where the two flags sit in an instance: after the dict's fields, 8-byte aligned.
static OFFSET: AtomicIsize = AtomicIsize::new(0);

const ACCESSED: usize = 0;
const MODIFIED: usize = 1;

/// The flag `which` of `obj`, an instance of the type (or of a subclass).
///
/// # Safety
/// `obj` is an instance of `_TrackedDict` or of a subclass, so it is at least the type's
/// basic size, whose last 8 bytes from `OFFSET` are the flags.
unsafe fn flag(obj: *mut ffi::PyObject, which: usize) -> *mut u8 {
    // SAFETY: as the function's contract says.
    unsafe {
        obj.cast::<u8>()
            .offset(OFFSET.load(Ordering::Relaxed))
            .add(which)
    }
}

/// `self[key] = value` and `del self[key]`: both flags, then the dict's own store.
unsafe extern "C" fn ass_subscript(
    slf: *mut ffi::PyObject,
    key: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
) -> c_int {
    // SAFETY: CPython calls this slot with an instance of the type.
    unsafe {
        *flag(slf, ACCESSED) = 1;
        *flag(slf, MODIFIED) = 1;
        if value.is_null() {
            ffi::PyDict_DelItem(slf, key)
        } else {
            ffi::PyDict_SetItem(slf, key, value)
        }
    }
}

unsafe extern "C" fn mark_accessed(
    slf: *mut ffi::PyObject,
    _: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: a method of the type, called with an instance of it.
    unsafe {
        *flag(slf, ACCESSED) = 1;
        ffi::Py_IncRef(ffi::Py_None());
        ffi::Py_None()
    }
}

unsafe extern "C" fn mark_modified(
    slf: *mut ffi::PyObject,
    _: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: a method of the type, called with an instance of it.
    unsafe {
        *flag(slf, ACCESSED) = 1;
        *flag(slf, MODIFIED) = 1;
        ffi::Py_IncRef(ffi::Py_None());
        ffi::Py_None()
    }
}

/// `accessed` / `modified` (the closure is which): a bool.
unsafe extern "C" fn get_flag(slf: *mut ffi::PyObject, which: *mut c_void) -> *mut ffi::PyObject {
    // SAFETY: a descriptor of the type, called with an instance of it.
    unsafe { ffi::PyBool_FromLong(c_long::from(*flag(slf, which as usize))) }
}

/// Set `accessed` / `modified` to the truth of `value` (it cannot be deleted).
unsafe extern "C" fn set_flag(
    slf: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
    which: *mut c_void,
) -> c_int {
    // SAFETY: a descriptor of the type, called with an instance of it.
    unsafe {
        if value.is_null() {
            ffi::PyErr_SetString(
                ffi::PyExc_AttributeError,
                c"the session's accessed and modified flags cannot be deleted".as_ptr(),
            );
            return -1;
        }
        let truth = ffi::PyObject_IsTrue(value);
        if truth < 0 {
            return -1;
        }
        *flag(slf, which as usize) = u8::from(truth == 1);
        0
    }
}

/// The first subclass found to keep the type's `accessed` (a data descriptor: a class
/// that redefines it is another class).
static KNOWN: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The type, once made.
static TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `obj.accessed` when `obj` is an instance of the type (or of a subclass that does not
/// redefine `accessed`), read from its flag; `None` otherwise.
pub(crate) fn accessed(obj: &Bound<'_, PyAny>) -> Option<bool> {
    let tracked = TYPE.get(obj.py())?.bind(obj.py());
    let ty = obj.get_type();
    let known = KNOWN.get(obj.py()).is_some_and(|k| ty.is(k.bind(obj.py())));
    if !ty.is(tracked) && !known {
        if !(ty.is_subclass(tracked).ok()? && own_accessed(&ty)) {
            return None;
        }
        // The first such class (the glue's Session) is remembered, with a reference that
        // keeps it alive: checked once.
        let _ = KNOWN.set(obj.py(), ty.clone().unbind());
    }
    // SAFETY: an instance of the type, checked above.
    Some(unsafe { *flag(obj.as_ptr(), ACCESSED) } != 0)
}

/// Whether `dict(d)` reads the items stored in `d` itself, as the native JSON writer does
/// (the glue's `SessionState.finish` stores `dict(session)`): true for an exact dict and
/// for a subclass that keeps dict's `__iter__` (the glue's `Session`), whose storage
/// CPython's `dict(d)` copies whatever its `keys()` or `__getitem__` say; false for one
/// that redefines `__iter__` (the glue's Python path decides then).
pub(crate) fn reads_as_dict(d: &Bound<'_, PyDict>) -> bool {
    if d.is_exact_instance_of::<PyDict>() {
        return true;
    }
    let Some(tracked) = TYPE.get(d.py()) else {
        return false;
    };
    let ty = d.get_type();
    // SAFETY: both are live type objects; `PyType_GetSlot` is asked of heap types only
    // (before Python 3.10 it refuses static ones), and the tracked type, made from a
    // spec over dict without an iterator of its own, holds dict's inherited one.
    unsafe {
        let ty = ty.as_type_ptr();
        if ffi::PyType_GetFlags(ty) & ffi::Py_TPFLAGS_HEAPTYPE == 0 {
            return false;
        }
        let own = ffi::PyType_GetSlot(ty, ffi::Py_tp_iter);
        !own.is_null()
            && own == ffi::PyType_GetSlot(tracked.bind(d.py()).as_type_ptr(), ffi::Py_tp_iter)
    }
}

/// Whether `ty`'s `accessed` is the type's own descriptor (a subclass may redefine it).
fn own_accessed(ty: &Bound<'_, PyType>) -> bool {
    let py = ty.py();
    let Some(tracked) = TYPE.get(py) else {
        return false;
    };
    match (
        ty.getattr(intern!(py, "accessed")),
        tracked.bind(py).getattr(intern!(py, "accessed")),
    ) {
        (Ok(a), Ok(b)) => a.is(&b),
        _ => false,
    }
}

/// Make the type (once, at the module's start).
pub(crate) fn make_type(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let dict = py.get_type::<PyDict>();
    let base_size: isize = dict.getattr("__basicsize__")?.extract()?;
    let offset = (base_size + 7) & !7;
    OFFSET.store(offset, Ordering::Relaxed);
    let basicsize = c_int::try_from(offset + 8)
        .map_err(|_| PyRuntimeError::new_err("dict's size is out of range"))?;
    // The type keeps pointers to these for ever.
    let methods: &'static mut [ffi::PyMethodDef] = Box::leak(Box::new([
        ffi::PyMethodDef {
            ml_name: c"mark_accessed".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: mark_accessed,
            },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Record that the app read the session.".as_ptr(),
        },
        ffi::PyMethodDef {
            ml_name: c"mark_modified".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunction: mark_modified,
            },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Record that the app changed the session.".as_ptr(),
        },
        ffi::PyMethodDef::zeroed(),
    ]));
    let getset: &'static mut [ffi::PyGetSetDef] = Box::leak(Box::new([
        ffi::PyGetSetDef {
            name: c"accessed".as_ptr(),
            get: Some(get_flag),
            set: Some(set_flag),
            doc: c"The app read or changed the session in this request.".as_ptr(),
            closure: ACCESSED as *mut c_void,
        },
        ffi::PyGetSetDef {
            name: c"modified".as_ptr(),
            get: Some(get_flag),
            set: Some(set_flag),
            doc: c"The app changed the session in this request.".as_ptr(),
            closure: MODIFIED as *mut c_void,
        },
        ffi::PyGetSetDef::default(),
    ]));
    let mut slots = [
        ffi::PyType_Slot {
            slot: ffi::Py_mp_ass_subscript,
            pfunc: ass_subscript as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_methods,
            pfunc: methods.as_mut_ptr().cast(),
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_getset,
            pfunc: getset.as_mut_ptr().cast(),
        },
        ffi::PyType_Slot {
            slot: 0,
            pfunc: ptr::null_mut(),
        },
    ];
    let mut spec = ffi::PyType_Spec {
        name: c"sessile._native._TrackedDict".as_ptr(),
        basicsize,
        itemsize: 0,
        flags: (ffi::Py_TPFLAGS_DEFAULT | ffi::Py_TPFLAGS_BASETYPE) as c_uint,
        slots: slots.as_mut_ptr(),
    };
    let bases = PyTuple::new(py, [dict])?;
    // SAFETY: the spec and its slots are valid for the call; the method and getset
    // tables it points to live for ever.
    let ty = unsafe {
        Bound::from_owned_ptr_or_err(py, ffi::PyType_FromSpecWithBases(&mut spec, bases.as_ptr()))?
    };
    let ty = ty.cast_into::<PyType>()?;
    let _ = TYPE.set(py, ty.clone().unbind());
    Ok(ty.into_any())
}
