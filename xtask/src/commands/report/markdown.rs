//! A small Markdown builder for REPORT.md: a document is a list of blocks
//! (heading, paragraph, table, list, collapsed details), written with one
//! blank line between them. The report's sections say what they show; how
//! a table or a list is spelled lives here once.

/// How a table column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Default)]
pub struct Markdown {
    blocks: Vec<String>,
}

impl Markdown {
    pub fn heading(&mut self, level: usize, text: &str) {
        self.blocks.push(format!("{} {text}\n", "#".repeat(level)));
    }

    pub fn para(&mut self, text: &str) {
        self.blocks.push(format!("{text}\n"));
    }

    /// A table; every row has one cell per column.
    pub fn table(&mut self, columns: &[(&str, Align)], rows: &[Vec<String>]) {
        let line = |cells: &mut dyn Iterator<Item = &str>| format!("| {} |\n", cells.collect::<Vec<_>>().join(" | "));
        let mut t = line(&mut columns.iter().map(|(name, _)| *name));
        let rule: String = columns.iter().map(|(_, a)| if *a == Align::Right { "---:|" } else { "---|" }).collect();
        t += &format!("|{rule}\n");
        for row in rows {
            t += &line(&mut row.iter().map(String::as_str));
        }
        self.blocks.push(t);
    }

    pub fn bullets(&mut self, items: &[String]) {
        self.blocks.push(items.iter().map(|i| format!("- {i}\n")).collect());
    }

    /// A list folded under a summary line, so that a long one does not
    /// drown the page.
    pub fn details(&mut self, summary: &str, items: &[String]) {
        let list: String = items.iter().map(|i| format!("- {i}\n")).collect();
        self.blocks.push(format!("<details><summary>{summary}</summary>\n\n{list}\n</details>\n"));
    }

    pub fn finish(self) -> String {
        self.blocks.join("\n")
    }
}

/// Text inside a table or a list item must not end a cell: `|` escaped.
pub fn escape_pipes(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_one_blank_line_apart() {
        let mut m = Markdown::default();
        m.heading(1, "Title");
        m.para("Some words.");
        m.table(&[("run", Align::Left), ("pairs", Align::Right)], &[vec!["`a`".into(), "3".into()]]);
        m.heading(2, "Then");
        m.bullets(&["one".into(), escape_pipes("two | three")]);
        m.details("All 1", &["x".into()]);
        assert_eq!(
            m.finish(),
            "# Title\n\nSome words.\n\n| run | pairs |\n|---|---:|\n| `a` | 3 |\n\n## Then\n\n- one\n- two \\| three\n\n\
             <details><summary>All 1</summary>\n\n- x\n\n</details>\n"
        );
    }
}
