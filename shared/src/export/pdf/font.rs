//! The embedded DejaVu Sans fonts: glyph lookup, text measurement and
//! encoding, and at the end one subset of each font written as a CID font with a
//! `ToUnicode` map, so every accent prints and copies out as text.

use anyhow::Context;
use flate2::{Compression, write::ZlibEncoder};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use std::collections::HashMap;
use std::io::Write;
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

const REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    Regular,
    Bold,
}

impl Weight {
    /// The font's name in every resource dictionary.
    pub fn resource(self) -> Name<'static> {
        match self {
            Self::Regular => Name(b"R"),
            Self::Bold => Name(b"B"),
        }
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
pub(super) struct Font {
    face: Face<'static>,
    data: &'static [u8],
    postscript_name: &'static str,
    to_thousandths: f32,
    remapper: GlyphRemapper,
    glyphs: HashMap<char, Glyph>,
    /// By CID: advance (thousandths) and the character it stands for.
    widths: Vec<f32>,
    chars: Vec<Option<char>>,
}

impl Font {
    fn new(data: &'static [u8], postscript_name: &'static str) -> anyhow::Result<Self> {
        let face = Face::parse(data, 0).context("parse the embedded font")?;
        let to_thousandths = 1000.0 / f32::from(face.units_per_em());
        let mut font = Self {
            face,
            data,
            postscript_name,
            to_thousandths,
            remapper: GlyphRemapper::new(),
            glyphs: HashMap::new(),
            widths: Vec::new(),
            chars: Vec::new(),
        };
        // `.notdef` is CID 0 in every subset.
        font.widths.push(font.advance(GlyphId(0)));
        font.chars.push(None);
        Ok(font)
    }

    fn advance(&self, gid: GlyphId) -> f32 {
        f32::from(self.face.glyph_hor_advance(gid).unwrap_or(0)) * self.to_thousandths
    }

    fn glyph(&mut self, c: char) -> Glyph {
        if let Some(glyph) = self.glyphs.get(&c) {
            return *glyph;
        }
        // A character the font lacks prints as `.notdef` (an empty box).
        let gid = self.face.glyph_index(c).unwrap_or(GlyphId(0));
        let cid = self.remapper.remap(gid.0);
        let index = usize::from(cid);
        if index == self.widths.len() {
            self.widths.push(self.advance(gid));
            self.chars.push(Some(c));
        }
        let glyph = Glyph {
            cid,
            advance: self.widths[index],
        };
        self.glyphs.insert(c, glyph);
        glyph
    }

    /// Width of `text` at `size` points.
    pub fn width(&mut self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).advance).sum::<f32>() * size / 1000.0
    }

    /// `text` as the two-byte CIDs a `Tj` shows, appended to `out`.
    pub fn encode(&mut self, text: &str, out: &mut Vec<u8>) {
        for c in text.chars() {
            out.extend_from_slice(&self.glyph(c).cid.to_be_bytes());
        }
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
        for (cid, c) in (0u16..).zip(&self.chars) {
            if let Some(c) = c {
                unicode.pair(cid, *c);
            }
        }
        pdf.cmap(cmap, &unicode.finish());
        Ok(())
    }
}

/// Both weights, as the cards use them.
pub(super) struct Fonts {
    regular: Font,
    bold: Font,
}

impl Fonts {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            regular: Font::new(REGULAR, "DejaVuSans")?,
            bold: Font::new(BOLD, "DejaVuSans-Bold")?,
        })
    }

    pub fn get(&mut self, weight: Weight) -> &mut Font {
        match weight {
            Weight::Regular => &mut self.regular,
            Weight::Bold => &mut self.bold,
        }
    }

    /// `size`, or smaller so that `text` fits in `max_width`.
    pub fn fit(&mut self, weight: Weight, text: &str, size: f32, max_width: f32) -> f32 {
        let width = self.get(weight).width(text, size);
        if width <= max_width {
            size
        } else {
            (size * max_width / width).max(3.0)
        }
    }

    /// `text` cut at spaces into lines no wider than `max_width` (a single word
    /// wider than that gets a line of its own).
    pub fn wrap<'t>(&mut self, weight: Weight, text: &'t str, size: f32, max_width: f32) -> Vec<&'t str> {
        let font = self.get(weight);
        let space = font.width(" ", size);
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
            let word_width = font.width(word, size);
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

    /// Writes both fonts; each needs five ids, the Type0 font's first.
    pub fn write(&self, pdf: &mut Pdf, regular: [Ref; 5], bold: [Ref; 5]) -> anyhow::Result<()> {
        self.regular.write(pdf, regular)?;
        self.bold.write(pdf, bold)
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
        let face = Face::parse(REGULAR, 0).unwrap();
        for c in "NguyễnÇelikN'DiayeNúñezMüllerBrûléœŒ’«»".chars() {
            assert!(face.glyph_index(c).is_some(), "{c} missing");
        }
    }

    #[test]
    fn wrap_cuts_at_spaces_within_the_width() {
        let mut fonts = Fonts::new().unwrap();
        let text = "un deux trois quatre cinq six sept huit neuf dix";
        let lines = fonts.wrap(Weight::Regular, text, 10.0, 80.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), text);
        for line in lines {
            assert!(fonts.get(Weight::Regular).width(line, 10.0) <= 80.0, "{line}");
        }
    }
}
