//! `skiff list`.

use clap::{Args, ValueEnum};
use skiff::container::StateReport;

use super::Context;

/// `--format` of list.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    /// Aligned columns.
    Table,
    /// A JSON array.
    Json,
}

// Arguments of `list`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Select one of: table or json.
    #[arg(short, long, value_enum, default_value = "table")]
    pub format: ListFormat,
    /// Display only container IDs.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: ListArgs, context: &Context) -> anyhow::Result<i32> {
    // A default root that does not exist yet holds no containers; a --root given that does
    // not exist is a mistake (runc's rule).
    let root = context.store.root();
    if context.root_given && !root.exists() {
        anyhow::bail!("open {}: no such file or directory", root.display());
    }
    let reports = skiff::container::list(&context.store)?;
    if args.quiet {
        for report in &reports {
            println!("{}", report.id);
        }
        return Ok(0);
    }
    match args.format {
        // runc encodes an empty list as `null`.
        ListFormat::Json if reports.is_empty() => println!("null"),
        ListFormat::Json => println!("{}", serde_json::to_string(&reports)?),
        ListFormat::Table => print!("{}", table(&reports)),
    }
    Ok(0)
}

/// Columns as Go's tabwriter with minwidth 12 and padding 3 lays them out (last column unpadded).
fn table(reports: &[StateReport]) -> String {
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from).to_vec()];
    for r in reports {
        rows.push(vec![r.id.clone(), r.pid.to_string(), r.status.to_string(), r.bundle.display().to_string(), r.created.clone(), r.owner.clone()]);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> = (0..columns - 1).map(|c| rows.iter().map(|row| row[c].chars().count() + 3).max().unwrap_or(0).max(12)).collect();
    let mut out = String::new();
    for row in &rows {
        for (c, cell) in row.iter().enumerate() {
            if c + 1 < columns {
                out.push_str(&format!("{cell:<width$}", width = widths[c]));
            } else {
                out.push_str(cell);
            }
        }
        out.push('\n');
    }
    out
}
