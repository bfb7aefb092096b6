//! A progress bar on standard error, drawn only when standard error is a terminal, so logs
//! and pipes get just the summary line.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// `total` units, counted as `unit` ("users", or bytes when `unit` is `None`).
    pub fn new(total: u64, message: &'static str, unit: Option<&str>) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        let counts = match unit {
            Some(unit) => format!("{{human_pos}}/{{human_len}} {unit}"),
            None => "{bytes}/{total_bytes}".to_string(),
        };
        let template = format!("{{msg:>10}} [{{bar:40}}] {counts} ({{eta}} left)");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message);
        Self { bar }
    }

    pub fn set(&self, position: u64) {
        self.bar.set_position(position);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
