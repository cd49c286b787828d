//! A Web Worker started on first use, whose messages wait until it says it is ready —
//! the life cycle the decoding and the segmentation workers share. Its handlers are
//! closures, so each client hands the worker the state it updates; nothing is global.

use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// What a worker's messages and its crash (an uncaught error, a WebAssembly abort) go to.
#[derive(Clone)]
pub struct Handlers {
    pub on_message: Rc<dyn Fn(&JsValue)>,
    pub on_crash: Rc<dyn Fn(&str)>,
}

impl Handlers {
    pub fn new(
        on_message: impl Fn(&JsValue) + 'static,
        on_crash: impl Fn(&str) + 'static,
    ) -> Handlers {
        Handlers {
            on_message: Rc::new(on_message),
            on_crash: Rc::new(on_crash),
        }
    }
}

/// A message every worker of a kind must have before any other, and again whenever it
/// changes: the model a segmentation worker runs.
pub trait Preamble {
    /// A number that changes whenever the message does.
    fn generation(&self) -> u32;
    fn message(&self) -> (JsValue, Array);
}

pub struct LazyWorker {
    script: &'static str,
    handlers: Option<Handlers>,
    worker: Option<Worker>,
    ready: bool,
    waiting: Vec<(JsValue, Array)>,
    preamble: Option<Rc<dyn Preamble>>,
    /// The preamble's generation the running worker has.
    sent: Option<u32>,
}

impl LazyWorker {
    pub fn new(script: &'static str) -> LazyWorker {
        LazyWorker {
            script,
            handlers: None,
            worker: None,
            ready: false,
            waiting: Vec::new(),
            preamble: None,
            sent: None,
        }
    }

    /// A worker that gets `preamble` first (see [`Preamble`]).
    pub fn with_preamble(script: &'static str, preamble: Rc<dyn Preamble>) -> LazyWorker {
        LazyWorker {
            preamble: Some(preamble),
            ..LazyWorker::new(script)
        }
    }

    /// Where the worker's messages go; set once, before the first message is sent.
    pub fn connect(&mut self, handlers: Handlers) {
        self.handlers = Some(handlers);
    }

    /// Sends `message`, transferring `transfer`, starting the worker first if none runs;
    /// until the worker is ready the message waits. False if no worker could be started.
    pub fn post(&mut self, message: JsValue, transfer: Array) -> bool {
        self.start();
        if let Some(preamble) = self.preamble.clone() {
            let generation = preamble.generation();
            if self.worker.is_some() && self.sent != Some(generation) {
                self.sent = Some(generation);
                let (message, transfer) = preamble.message();
                self.send(message, transfer);
            }
        }
        self.send(message, transfer)
    }

    /// Starts the worker now if none runs, rather than on the first message: its module
    /// then loads while the page waits for the user, not after.
    pub fn start(&mut self) {
        if self.worker.is_none() {
            self.worker = self.handlers.as_ref().and_then(|h| spawn(self.script, h));
            self.sent = None;
        }
    }

    fn send(&mut self, message: JsValue, transfer: Array) -> bool {
        match &self.worker {
            None => false,
            Some(worker) if self.ready => {
                let _ = worker.post_message_with_transfer(&message, &transfer);
                true
            }
            Some(_) => {
                self.waiting.push((message, transfer));
                true
            }
        }
    }

    /// The worker said it is listening: what waited is sent, in order.
    pub fn ready(&mut self) {
        self.ready = true;
        if let Some(worker) = &self.worker {
            for (message, transfer) in self.waiting.drain(..) {
                let _ = worker.post_message_with_transfer(&message, &transfer);
            }
        }
    }

    /// Stops the worker; the next message starts a fresh one. With `drop_waiting`,
    /// messages not yet sent are forgotten, else they go to the fresh worker.
    pub fn stop(&mut self, drop_waiting: bool) {
        if let Some(worker) = self.worker.take() {
            worker.terminate();
        }
        self.ready = false;
        self.sent = None;
        if drop_waiting {
            self.waiting.clear();
        }
    }
}

fn spawn(url: &str, handlers: &Handlers) -> Option<Worker> {
    let worker = Worker::new(url).ok()?;
    let on_message = handlers.on_message.clone();
    let message =
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| on_message(&e.data()));
    worker.set_onmessage(Some(message.as_ref().unchecked_ref()));
    message.forget();
    let on_crash = handlers.on_crash.clone();
    let error = Closure::<dyn FnMut(ErrorEvent)>::new(move |e: ErrorEvent| on_crash(&e.message()));
    worker.set_onerror(Some(error.as_ref().unchecked_ref()));
    error.forget();
    Some(worker)
}
