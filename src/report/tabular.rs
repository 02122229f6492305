//! The one renderer of every table printed on stdout (the run summary, `compare`, `estimate`,
//! `prices`, `sweep`): aligned plain text or a Markdown table, through comfy-table.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};

/// How a table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Columns aligned with spaces, no borders: for terminals and logs.
    Plain,
    /// A GitHub-flavoured Markdown table (numbers right-aligned): for PR comments and reports.
    Markdown,
}

impl Style {
    /// `Markdown` when `markdown`, else `Plain`.
    pub fn markdown_if(markdown: bool) -> Style {
        if markdown {
            Style::Markdown
        } else {
            Style::Plain
        }
    }
}

/// Renders `rows` under `header`; the first `left` columns are left-aligned, the rest (numbers)
/// right-aligned. Every line ends with a newline.
pub fn render(header: &[&str], rows: &[Vec<String>], left: usize, style: Style) -> String {
    let left: Vec<usize> = (0..left).collect();
    render_aligned(header, rows, &left, style)
}

/// As [`render`], with the left-aligned columns named by index (text after numbers, such as a
/// verdict).
pub fn render_aligned(
    header: &[&str],
    rows: &[Vec<String>],
    left: &[usize],
    style: Style,
) -> String {
    let mut table = Table::new();
    table.set_content_arrangement(ContentArrangement::Disabled);
    let escape = |s: &str| match style {
        Style::Markdown => s.replace('|', "\\|"),
        Style::Plain => s.to_string(),
    };
    table.set_header(header.iter().map(|h| Cell::new(escape(h))));
    for row in rows {
        table.add_row(row.iter().map(|c| Cell::new(escape(c))));
    }
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_cell_alignment(if left.contains(&i) {
            CellAlignment::Left
        } else {
            CellAlignment::Right
        });
        if style == Style::Plain {
            column.set_padding((0, if i + 1 < header.len() { 2 } else { 0 }));
        }
    }
    match style {
        Style::Plain => {
            table.load_preset(presets::NOTHING);
            let mut out = String::new();
            for line in table.lines() {
                out.push_str(line.trim_end());
                out.push('\n');
            }
            out
        }
        Style::Markdown => {
            table.load_preset(presets::ASCII_MARKDOWN);
            let mut out = String::new();
            for (n, line) in table.lines().enumerate() {
                if n == 1 {
                    out.push_str(&alignment_row(&line, left));
                } else {
                    out.push_str(&line);
                }
                out.push('\n');
            }
            out
        }
    }
}

/// Marks the right-aligned columns of a Markdown separator row (`|-----|` → `|----:|`).
fn alignment_row(line: &str, left: &[usize]) -> String {
    let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
    let marked: Vec<String> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if !left.contains(&i) && c.len() > 1 {
                format!("{}:", &c[..c.len() - 1])
            } else {
                c.to_string()
            }
        })
        .collect();
    format!("|{}|", marked.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<String>> {
        vec![
            vec!["sequential".into(), "1".into(), "ok".into()],
            vec!["packed:16".into(), "1234".into(), "a | b".into()],
        ]
    }

    #[test]
    fn plain_aligns_names_left_and_numbers_right() {
        let t = render(&["strategy", "n", "note"], &rows(), 1, Style::Plain);
        assert_eq!(
            t,
            "strategy       n   note\nsequential     1     ok\npacked:16   1234  a | b\n"
        );
    }

    #[test]
    fn markdown_escapes_pipes_and_marks_right_alignment() {
        let t = render(&["strategy", "n", "note"], &rows(), 1, Style::Markdown);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "| strategy   |    n |   note |");
        assert_eq!(lines[1], "|------------|-----:|-------:|");
        assert_eq!(lines[3], "| packed:16  | 1234 | a \\| b |");
    }
}
