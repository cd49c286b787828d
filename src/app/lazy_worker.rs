//! A Web Worker started on first use, whose messages wait until it says it is ready —
//! the life cycle the decoding and the segmentation workers share.

use wasm_bindgen::JsValue;
use web_sys::Worker;

use super::protocol::spawn_worker;

pub struct LazyWorker {
    script: &'static str,
    on_message: fn(&JsValue),
    on_crash: fn(&str),
    worker: Option<Worker>,
    ready: bool,
    waiting: Vec<JsValue>,
}

impl LazyWorker {
    pub const fn new(
        script: &'static str,
        on_message: fn(&JsValue),
        on_crash: fn(&str),
    ) -> LazyWorker {
        LazyWorker {
            script,
            on_message,
            on_crash,
            worker: None,
            ready: false,
            waiting: Vec::new(),
        }
    }

    /// Sends `message`, starting the worker first if none runs; until the worker is
    /// ready the message waits. False if the browser would not start a worker.
    pub fn post(&mut self, message: JsValue) -> bool {
        if self.worker.is_none() {
            self.worker = spawn_worker(self.script, self.on_message, self.on_crash);
        }
        match &self.worker {
            None => false,
            Some(worker) if self.ready => {
                let _ = worker.post_message(&message);
                true
            }
            Some(_) => {
                self.waiting.push(message);
                true
            }
        }
    }

    /// The worker said it is listening: what waited is sent, in order.
    pub fn ready(&mut self) {
        self.ready = true;
        if let Some(worker) = &self.worker {
            for message in self.waiting.drain(..) {
                let _ = worker.post_message(&message);
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
        if drop_waiting {
            self.waiting.clear();
        }
    }
}
