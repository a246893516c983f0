//! The tables `ps` and `images` print: a header of column names, then one
//! row per line, each column starting where its name starts in the header.

use std::collections::HashMap;

/// One row of a table, by column name.
#[derive(Clone, Debug)]
pub struct Row {
    cells: HashMap<String, String>,
    /// The line as printed, for messages.
    pub line: String,
}

impl Row {
    /// The cell of `column` (trimmed); fails the test if there is no such column.
    pub fn get(&self, column: &str) -> &str {
        self.cells
            .get(column)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no column {column:?} in row {:?}", self.line))
    }
}

/// Parse `text` whose first line must hold `columns`, in that order.
/// Fails the test, showing the text, if the header is not as promised.
pub fn parse(text: &str, columns: &[&str]) -> Vec<Row> {
    try_parse(text, columns).unwrap_or_else(|e| panic!("{e}"))
}

/// As [`parse`], returning a header that breaks the promise as an error.
pub fn try_parse(text: &str, columns: &[&str]) -> Result<Vec<Row>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or_else(|| format!("no header line (wanted {columns:?}) in:\n{text}"))?;
    if header.contains('\t') {
        return parse_tabs(header, lines, columns, text);
    }
    let header: Vec<char> = header.chars().collect();
    let header_str: String = header.iter().collect();
    let mut starts = Vec::new();
    let mut from = 0;
    for col in columns {
        let at = find_word(&header, col, from).ok_or_else(|| {
            format!("header {header_str:?} lacks column {col:?} (after position {from}); wanted {columns:?}\n{text}")
        })?;
        starts.push(at);
        from = at + col.chars().count();
    }
    Ok(lines
        .map(|line| {
            let chars: Vec<char> = line.chars().collect();
            let mut cells = HashMap::new();
            for (i, col) in columns.iter().enumerate() {
                let start = starts[i].min(chars.len());
                let end = starts.get(i + 1).copied().unwrap_or(chars.len()).min(chars.len()).max(start);
                let cell: String = chars[start..end].iter().collect();
                cells.insert(col.to_string(), cell.trim().to_string());
            }
            Row { cells, line: line.to_string() }
        })
        .collect())
}

fn parse_tabs<'a>(
    header: &str,
    lines: impl Iterator<Item = &'a str>,
    columns: &[&str],
    text: &str,
) -> Result<Vec<Row>, String> {
    let names: Vec<&str> = header.split('\t').map(str::trim).collect();
    if let Some(col) = columns.iter().find(|c| !names.contains(c)) {
        return Err(format!("header {header:?} lacks column {col:?}:\n{text}"));
    }
    Ok(lines
        .map(|line| {
            let cells =
                names.iter().zip(line.split('\t')).map(|(n, c)| (n.to_string(), c.trim().to_string())).collect();
            Row { cells, line: line.to_string() }
        })
        .collect())
}

/// Where `word` starts in `header` at or after `from`, as a whole word
/// (`IMAGE` must not match inside `IMAGE ID`'s neighbour columns wrongly).
fn find_word(header: &[char], word: &str, from: usize) -> Option<usize> {
    let w: Vec<char> = word.chars().collect();
    (from..header.len()).find(|&i| {
        header.len() >= i + w.len()
            && header[i..i + w.len()] == w[..]
            && (i == 0 || header[i - 1] == ' ')
            && header.get(i + w.len()).is_none_or(|c| *c == ' ')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_by_header_position() {
        let text = "CONTAINER ID   NAME   IMAGE     STATUS       COMMAND\n\
                    0123456789ab   web    busybox   Exited (3)   sh -c exit 3\n";
        let rows = parse(text, &["CONTAINER ID", "NAME", "IMAGE", "STATUS", "COMMAND"]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get("CONTAINER ID"), "0123456789ab");
        assert_eq!(rows[0].get("STATUS"), "Exited (3)");
        assert_eq!(rows[0].get("COMMAND"), "sh -c exit 3");
    }

    #[test]
    fn image_and_image_id_are_told_apart() {
        let text = "NAME      IMAGE ID       SIZE\nbusybox   0123456789ab   2.1 MB\n";
        let rows = parse(text, &["NAME", "IMAGE ID", "SIZE"]);
        assert_eq!(rows[0].get("IMAGE ID"), "0123456789ab");
    }
}
