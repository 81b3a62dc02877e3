//! A spec's text, its name for messages, and byte spans into it.
//!
//! Every position platgen reports is a byte range into the source text;
//! lines and columns are computed only when a diagnostic is rendered.

use std::ops::Range;

/// A half-open byte range `start..end` into a [`SourceFile`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

/// One spec file: what the user called it and its full text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: String,
    /// Byte offset at which each line starts; always starts with 0. Made
    /// when a position is first asked for: a spec without diagnostics
    /// never needs it (1,000 services: 3 M instructions).
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

/// A 1-based line and a 1-based column counted in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
            line_starts: std::sync::OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|i| i + 1))
                .collect()
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Clamps `offset` into the text and onto a character boundary.
    fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// A span clamped to the text and to character boundaries, so that it
    /// can be sliced and handed to a renderer without panicking.
    pub fn clamp_span(&self, span: Span) -> Span {
        let start = self.clamp(span.start);
        let end = self.clamp(span.end.max(start));
        Span::new(start, end)
    }

    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = self.clamp(offset);
        let line = self.line_starts().partition_point(|&s| s <= offset) - 1;
        let column = self.text[self.line_starts()[line]..offset].chars().count() + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// The byte offset of a 1-based line and character column, as YAML parsers
    /// report them. Out-of-range positions are clamped to the text.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts().get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let line_text = rest.split('\n').next().unwrap_or("");
        line_text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(start + line_text.len(), |(i, _)| start + i)
    }

    /// The whole lines that hold the byte range `lo..hi` (clamped): their
    /// span, with the line break after the last one, and the 1-based
    /// number of the first.
    pub fn lines_of(&self, lo: usize, hi: usize) -> (Span, usize) {
        let lo = self.clamp(lo);
        let hi = self.clamp(hi.max(lo));
        let first = self.line_starts().partition_point(|&s| s <= lo) - 1;
        let last = self.line_starts().partition_point(|&s| s <= hi) - 1;
        let end = self
            .line_starts()
            .get(last + 1)
            .copied()
            .unwrap_or(self.text.len());
        (Span::new(self.line_starts()[first], end), first + 1)
    }

    /// The text a span covers (clamped).
    pub fn slice(&self, span: Span) -> &str {
        let span = self.clamp_span(span);
        &self.text[span.range()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let src = SourceFile::new("t", "a: 1\nbé: x\n");
        assert_eq!(src.line_col(0), LineCol { line: 1, column: 1 });
        let x = src.text().find('x').unwrap();
        assert_eq!(src.line_col(x), LineCol { line: 2, column: 5 });
        assert_eq!(src.offset_of(2, 5), x);
    }

    #[test]
    fn spans_are_clamped_to_char_boundaries() {
        let src = SourceFile::new("t", "é");
        assert_eq!(src.clamp_span(Span::new(1, 9)), Span::new(0, 2));
        assert_eq!(src.slice(Span::new(1, 9)), "é");
    }
}
