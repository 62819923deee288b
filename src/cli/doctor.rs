//! `skiff doctor`: what this host gives a runtime, and what each missing piece means.

use clap::{Args, ValueEnum};

use super::Context;

/// How the report is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DoctorFormat {
    /// A line per check, with what a missing piece means and how to get it.
    Text,
    /// The same facts as one JSON document, for tools.
    Json,
}

// Arguments of `doctor`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DoctorFormat,
}

/// Print the report; exit 0, or 1 when skiff cannot run containers here at all.
pub fn run(args: DoctorArgs, context: &Context) -> anyhow::Result<i32> {
    let report = skiff::doctor::examine(context.store.root(), &super::wasm_handler_search());
    let text = match args.format {
        DoctorFormat::Text => report.text(),
        DoctorFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
    };
    // A reader that stops early (`skiff doctor | head`) is not an error.
    match std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => return Err(error.into()),
        _ => {}
    }
    Ok(if report.can_run_containers { 0 } else { 1 })
}
