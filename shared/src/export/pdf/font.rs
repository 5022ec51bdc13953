//! The embedded fonts: DejaVu Sans for Latin, Greek and Cyrillic, Noto Sans
//! Arabic and Noto Sans Hebrew, and Droid Sans Fallback for Chinese, Japanese and
//! Korean. A line of text is put in its bidirectional order (`unicode-bidi`), cut
//! into runs of one font each (the font made for the run's script, else the first
//! that has the glyph), and each run shaped (`rustybuzz`: Arabic joins, marks
//! sit); plain Latin lines skip all that. At the end, each font used is written as
//! a subset CID font with a `ToUnicode` map, so every name copies out as text.

use anyhow::Context;
use flate2::{Compression, write::ZlibEncoder};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use rustybuzz::{Direction, UnicodeBuffer};
use std::collections::HashMap;
use std::io::Write;
use std::ops::Range;
use subsetter::GlyphRemapper;
use ttf_parser::GlyphId;
use unicode_bidi::BidiInfo;

const REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");
const ARABIC: &[u8] = include_bytes!("../../../assets/fonts/NotoSansArabic-Regular.ttf");
const ARABIC_BOLD: &[u8] = include_bytes!("../../../assets/fonts/NotoSansArabic-Bold.ttf");
const HEBREW: &[u8] = include_bytes!("../../../assets/fonts/NotoSansHebrew-Regular.ttf");
const HEBREW_BOLD: &[u8] = include_bytes!("../../../assets/fonts/NotoSansHebrew-Bold.ttf");
const CJK: &[u8] = include_bytes!("../../../assets/fonts/DroidSansFallback.ttf");

/// Each font: its data, PostScript name, and name in the resource dictionary.
const FACES: [(&[u8], &str, &[u8]); 7] = [
    (REGULAR, "DejaVuSans", b"R"),
    (BOLD, "DejaVuSans-Bold", b"B"),
    (ARABIC, "NotoSansArabic-Regular", b"AR"),
    (ARABIC_BOLD, "NotoSansArabic-Bold", b"AB"),
    (HEBREW, "NotoSansHebrew-Regular", b"HR"),
    (HEBREW_BOLD, "NotoSansHebrew-Bold", b"HB"),
    (CJK, "DroidSansFallback", b"C"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    Regular,
    Bold,
}

impl Weight {
    /// The fonts to try for a character, in order (indexes into `FACES`).
    fn chain(self) -> [usize; 4] {
        match self {
            Self::Regular => [0, 2, 4, 6],
            Self::Bold => [1, 3, 5, 6],
        }
    }
}

/// The font made for `c`'s script, if it is not the weight's first.
fn made_for(weight: Weight, c: char) -> Option<usize> {
    let bold = usize::from(weight == Weight::Bold);
    match u32::from(c) {
        0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
            Some(2 + bold)
        }
        0x0590..=0x05FF | 0xFB1D..=0xFB4F => Some(4 + bold),
        0x1100..=0x11FF
        | 0x2E80..=0x2FDF
        | 0x3000..=0x9FFF
        | 0xA960..=0xA97F
        | 0xAC00..=0xD7FF
        | 0xF900..=0xFAFF
        | 0xFF00..=0xFFEF => Some(6),
        _ => None,
    }
}

#[derive(Clone, Copy)]
struct Glyph {
    /// The glyph's id in the subset, which is also its CID.
    cid: u16,
    /// Advance width in thousandths of the font size.
    advance: f32,
}

/// One font face and the glyphs used so far.
struct Font {
    face: rustybuzz::Face<'static>,
    data: &'static [u8],
    postscript_name: &'static str,
    resource: &'static [u8],
    to_thousandths: f32,
    remapper: GlyphRemapper,
    /// The unshaped glyph of a character (plain lines).
    glyphs: HashMap<char, Glyph>,
    /// By CID: advance (thousandths) and the text it stands for.
    widths: Vec<f32>,
    texts: Vec<Option<String>>,
}

impl Font {
    fn new(
        (data, postscript_name, resource): (&'static [u8], &'static str, &'static [u8]),
    ) -> anyhow::Result<Self> {
        let face = rustybuzz::Face::from_slice(data, 0).context("parse an embedded font")?;
        let to_thousandths = 1000.0 / face.units_per_em() as f32;
        let mut font = Self {
            face,
            data,
            postscript_name,
            resource,
            to_thousandths,
            remapper: GlyphRemapper::new(),
            glyphs: HashMap::new(),
            widths: Vec::new(),
            texts: Vec::new(),
        };
        // `.notdef` is CID 0 in every subset.
        font.widths.push(font.advance(GlyphId(0)));
        font.texts.push(None);
        Ok(font)
    }

    fn has(&self, c: char) -> bool {
        self.face.glyph_index(c).is_some()
    }

    fn used(&self) -> bool {
        self.widths.len() > 1
    }

    fn advance(&self, gid: GlyphId) -> f32 {
        f32::from(self.face.glyph_hor_advance(gid).unwrap_or(0)) * self.to_thousandths
    }

    /// The CID of glyph `gid`, which stands for `text` (the first text seen).
    fn cid(&mut self, gid: u16, text: Option<&str>) -> u16 {
        let cid = self.remapper.remap(gid);
        let index = usize::from(cid);
        if index == self.widths.len() {
            self.widths.push(self.advance(GlyphId(gid)));
            self.texts.push(None);
        }
        // `.notdef` stands for no text: a missing glyph must not pass for one.
        if let (None, Some(text), true) = (&self.texts[index], text, gid != 0) {
            self.texts[index] = Some(text.to_owned());
        }
        cid
    }

    fn glyph(&mut self, c: char) -> Glyph {
        if let Some(glyph) = self.glyphs.get(&c) {
            return *glyph;
        }
        let gid = self.face.glyph_index(c).unwrap_or(GlyphId(0));
        let mut utf8 = [0; 4];
        let cid = self.cid(gid.0, Some(c.encode_utf8(&mut utf8)));
        let glyph = Glyph {
            cid,
            advance: self.widths[usize::from(cid)],
        };
        self.glyphs.insert(c, glyph);
        glyph
    }

    /// `range` of `text` shaped in this font, glyphs in visual order.
    fn shape(&mut self, text: &str, range: Range<usize>, rtl: bool) -> Vec<Glyph> {
        let run = &text[range];
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(run);
        buffer.set_direction(if rtl {
            Direction::RightToLeft
        } else {
            Direction::LeftToRight
        });
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(&self.face, &[], buffer);
        let mut starts: Vec<usize> = shaped.glyph_infos().iter().map(|g| g.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        let mut seen = std::collections::HashSet::new();
        let mut glyphs = Vec::with_capacity(starts.len());
        for (info, position) in shaped.glyph_infos().iter().zip(shaped.glyph_positions()) {
            let start = info.cluster as usize;
            let end = starts.iter().find(|&&s| s > start).copied().unwrap_or(run.len());
            // The first glyph of a cluster stands for its text; the others for none.
            let text = seen.insert(start).then(|| &run[start..end]);
            let gid = u16::try_from(info.glyph_id).unwrap_or(0);
            let cid = self.cid(gid, text);
            glyphs.push(Glyph {
                cid,
                advance: position.x_advance as f32 * self.to_thousandths,
            });
        }
        glyphs
    }

    /// Writes the subset and its dictionaries; `refs` are the Type0 font first,
    /// then four free ids.
    fn write(&self, pdf: &mut Pdf, refs: [Ref; 5]) -> anyhow::Result<()> {
        let [type0, cid_font, descriptor, file, cmap] = refs;
        let subset = subsetter::subset(self.data, 0, &self.remapper)
            .map_err(|error| anyhow::anyhow!("subset {}: {error}", self.postscript_name))?;
        let subset = deflate(&subset)?;
        // Six letters that tell subsets apart, as PDF readers expect.
        let tag: String = (0..6)
            .map(|i| char::from(b'A' + ((self.widths.len() >> (i * 2)) % 26) as u8))
            .collect();
        let base_font = format!("{tag}+{}", self.postscript_name);
        let base_font = Name(base_font.as_bytes());
        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };

        pdf.type0_font(type0)
            .base_font(base_font)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_font)
            .to_unicode(cmap);

        let mut cid = pdf.cid_font(cid_font);
        cid.subtype(CidFontType::Type2)
            .base_font(base_font)
            .system_info(system_info)
            .font_descriptor(descriptor)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, self.widths.iter().copied());
        cid.finish();

        let scale = |v: i16| f32::from(v) * self.to_thousandths;
        let bbox = self.face.global_bounding_box();
        pdf.font_descriptor(descriptor)
            .name(base_font)
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                scale(bbox.x_min),
                scale(bbox.y_min),
                scale(bbox.x_max),
                scale(bbox.y_max),
            ))
            .italic_angle(0.0)
            .ascent(scale(self.face.ascender()))
            .descent(scale(self.face.descender()))
            .cap_height(scale(self.face.capital_height().unwrap_or(self.face.ascender())))
            .stem_v(if self.postscript_name.contains("Bold") {
                140.0
            } else {
                80.0
            })
            .font_file2(file);
        pdf.stream(file, &subset).filter(Filter::FlateDecode);

        let mut unicode = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), system_info);
        for (cid, text) in (0u16..).zip(&self.texts) {
            match text.as_deref().map(|t| (t, t.chars().count())) {
                Some((t, 1)) => unicode.pair(cid, t.chars().next().unwrap_or_default()),
                Some((t, _)) => unicode.pair_with_multiple(cid, t.chars()),
                None => {}
            }
        }
        pdf.cmap(cmap, &unicode.finish());
        Ok(())
    }
}

/// A line of text ready to draw: runs of one font each, in visual order.
pub(super) struct Shaped {
    runs: Vec<(usize, Vec<Glyph>)>,
}

impl Shaped {
    /// The width in thousandths of the font size.
    fn width(&self) -> f32 {
        self.runs
            .iter()
            .flat_map(|(_, glyphs)| glyphs.iter().map(|g| g.advance))
            .sum()
    }
}

/// Every embedded font, loaded once a file.
pub(super) struct Fonts {
    fonts: Vec<Font>,
}

impl Fonts {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            fonts: FACES.into_iter().map(Font::new).collect::<anyhow::Result<_>>()?,
        })
    }

    /// The font for `c` in a run that uses `current` so far.
    fn font_for(&self, weight: Weight, c: char, current: Option<usize>) -> usize {
        if let Some(font) = made_for(weight, c).filter(|&f| self.fonts[f].has(c)) {
            return font;
        }
        // Spaces, digits and punctuation stay in the run's font when it has them.
        if let Some(font) = current.filter(|&f| !c.is_alphabetic() && self.fonts[f].has(c)) {
            return font;
        }
        let chain = weight.chain();
        chain
            .into_iter()
            .find(|&f| self.fonts[f].has(c))
            .unwrap_or(chain[0])
    }

    /// `text` as glyphs in fonts, in the order they are drawn.
    pub fn shape(&mut self, weight: Weight, text: &str) -> Shaped {
        let first = weight.chain()[0];
        let plain = text
            .chars()
            .all(|c| made_for(weight, c).is_none() && self.fonts[first].has(c));
        if plain {
            let font = &mut self.fonts[first];
            let glyphs = text.chars().map(|c| font.glyph(c)).collect();
            return Shaped {
                runs: vec![(first, glyphs)],
            };
        }
        let bidi = BidiInfo::new(text, None);
        let mut runs = Vec::new();
        for paragraph in &bidi.paragraphs {
            let (levels, visual) = bidi.visual_runs(paragraph, paragraph.range.clone());
            for range in visual {
                let rtl = levels[range.start].is_rtl();
                let mut pieces: Vec<(usize, Range<usize>)> = Vec::new();
                for (at, c) in text[range.clone()].char_indices() {
                    let at = range.start + at;
                    let current = pieces.last().map(|(font, _)| *font);
                    let font = self.font_for(weight, c, current);
                    match pieces.last_mut() {
                        Some((f, r)) if *f == font => r.end = at + c.len_utf8(),
                        _ => pieces.push((font, at..at + c.len_utf8())),
                    }
                }
                if rtl {
                    pieces.reverse();
                }
                for (font, piece) in pieces {
                    let glyphs = self.fonts[font].shape(text, piece, rtl);
                    runs.push((font, glyphs));
                }
            }
        }
        Shaped { runs }
    }

    /// Width of `text` at `size` points.
    pub fn width(&mut self, weight: Weight, text: &str, size: f32) -> f32 {
        self.shape(weight, text).width() * size / 1000.0
    }

    /// Draws `text` at `size` with its baseline starting at (`x`, `y`).
    pub fn draw(&mut self, content: &mut Content, weight: Weight, size: f32, (x, y): (f32, f32), text: &str) {
        let shaped = self.shape(weight, text);
        let mut x = x;
        let mut bytes = Vec::new();
        content.begin_text();
        for (font, glyphs) in &shaped.runs {
            let font = &self.fonts[*font];
            content.set_font(Name(font.resource), size);
            content.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
            let mut shown = content.show_positioned();
            let mut items = shown.items();
            for glyph in glyphs {
                bytes.extend_from_slice(&glyph.cid.to_be_bytes());
                // Where shaping moved the pen otherwise than the font's own width.
                let drift = glyph.advance - font.widths[usize::from(glyph.cid)];
                if drift.abs() > 0.01 {
                    items.show(Str(&bytes));
                    items.adjust(-drift);
                    bytes.clear();
                }
            }
            if !bytes.is_empty() {
                items.show(Str(&bytes));
                bytes.clear();
            }
            drop(items);
            drop(shown);
            x += glyphs.iter().map(|g| g.advance).sum::<f32>() * size / 1000.0;
        }
        content.end_text();
    }

    /// `size`, or smaller so that `text` fits in `max_width`.
    pub fn fit(&mut self, weight: Weight, text: &str, size: f32, max_width: f32) -> f32 {
        let width = self.width(weight, text, size);
        if width <= max_width {
            size
        } else {
            (size * max_width / width).max(3.0)
        }
    }

    /// `text` cut at spaces into lines no wider than `max_width` (a single word
    /// wider than that gets a line of its own).
    pub fn wrap<'t>(&mut self, weight: Weight, text: &'t str, size: f32, max_width: f32) -> Vec<&'t str> {
        let space = self.width(weight, " ", size);
        let mut lines = Vec::new();
        let (mut start, mut end, mut width) = (None::<usize>, 0, 0.0);
        for (at, word) in text.split(' ').scan(0, |at, word| {
            let here = *at;
            *at += word.len() + 1;
            Some((here, word))
        }) {
            if word.is_empty() {
                continue;
            }
            let word_width = self.width(weight, word, size);
            match start {
                Some(first) if width + space + word_width > max_width => {
                    lines.push(&text[first..end]);
                    (start, width) = (Some(at), word_width);
                }
                Some(_) => width += space + word_width,
                None => (start, width) = (Some(at), word_width),
            }
            end = at + word.len();
        }
        if let Some(first) = start {
            lines.push(&text[first..end]);
        }
        lines
    }

    /// The fonts drawn with so far, each with its resource name and five fresh
    /// ids (the Type0 font's first).
    pub fn allocate(&self, next: &mut Ref) -> Vec<(usize, Name<'static>, [Ref; 5])> {
        self.fonts
            .iter()
            .enumerate()
            .filter(|(_, font)| font.used())
            .map(|(index, font)| (index, Name(font.resource), [(); 5].map(|()| next.bump())))
            .collect()
    }

    /// Writes the fonts `allocate` named.
    pub fn write(&self, pdf: &mut Pdf, allocated: &[(usize, Name<'static>, [Ref; 5])]) -> anyhow::Result<()> {
        for (index, _, refs) in allocated {
            self.fonts[*index].write(pdf, *refs)?;
        }
        Ok(())
    }
}

pub(super) fn deflate(data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(data.len() / 3 + 64), Compression::default());
    encoder.write_all(data)?;
    Ok(encoder.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accent_of_the_demo_names_has_a_glyph() {
        let face = ttf_parser::Face::parse(REGULAR, 0).unwrap();
        for c in "NguyễnÇelikN'DiayeNúñezMüllerBrûléœŒ’«»".chars() {
            assert!(face.glyph_index(c).is_some(), "{c} missing");
        }
    }

    #[test]
    fn every_script_of_a_french_roll_has_real_glyphs() {
        let mut fonts = Fonts::new().unwrap();
        for name in [
            "محمد العلي",
            "王伟",
            "Σοφία Παπαδοπούλου",
            "Nguyễn Thị Minh Khai",
            "Ioana Ștefănescu",
            "דוד כהן",
            "佐藤 花子",
            "김민준",
            "Ünal محمد 12",
        ] {
            for weight in [Weight::Regular, Weight::Bold] {
                let shaped = fonts.shape(weight, name);
                for (font, glyphs) in &shaped.runs {
                    let font = &fonts.fonts[*font];
                    for glyph in glyphs {
                        let gid = font.remapper.remapped_gids().nth(usize::from(glyph.cid)).unwrap();
                        assert_ne!(gid, 0, "{name}: a .notdef in {}", font.postscript_name);
                    }
                }
            }
        }
    }

    #[test]
    fn arabic_is_joined_and_right_to_left() {
        let mut fonts = Fonts::new().unwrap();
        let shaped = fonts.shape(Weight::Regular, "محمد");
        assert_eq!(shaped.runs.len(), 1);
        let (font, glyphs) = &shaped.runs[0];
        let font = &fonts.fonts[*font];
        assert_eq!(font.postscript_name, "NotoSansArabic-Regular");
        let texts: Vec<&str> = glyphs
            .iter()
            .filter_map(|g| font.texts[usize::from(g.cid)].as_deref())
            .collect();
        assert_eq!(
            texts.concat(),
            "دمحم",
            "drawn right to left: the last letter first"
        );
        // Joined: the medial and final forms are other glyphs than the isolated ones.
        let isolated: Vec<u16> = "محمد"
            .chars()
            .map(|c| font.face.glyph_index(c).unwrap().0)
            .collect();
        let drawn: Vec<u16> = glyphs
            .iter()
            .map(|g| font.remapper.remapped_gids().nth(usize::from(g.cid)).unwrap())
            .collect();
        assert!(
            drawn.iter().rev().zip(&isolated).any(|(d, i)| d != i),
            "{drawn:?} {isolated:?}"
        );
    }

    #[test]
    fn wrap_cuts_at_spaces_within_the_width() {
        let mut fonts = Fonts::new().unwrap();
        let text = "un deux trois quatre cinq six sept huit neuf dix";
        let lines = fonts.wrap(Weight::Regular, text, 10.0, 80.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), text);
        for line in lines {
            assert!(fonts.width(Weight::Regular, line, 10.0) <= 80.0, "{line}");
        }
    }
}
