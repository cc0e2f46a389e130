//! The help center's look, as an admin sets it: the help desk's name, its colour and its
//! logo — each checked here, so the pages can put them in HTML and CSS without thinking.

use crate::FieldError;
use crate::text::has_control;

/// The help desk's name as the public help center shows it: 1–80 characters, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandName(String);

impl BrandName {
    /// Checks a name, naming the field `name`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() || s.chars().count() > 80 {
            return Err(FieldError::new("name", "must be 1 to 80 characters"));
        }
        if has_control(s) {
            return Err(FieldError::new(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A colour as `#rrggbb` (lower case once parsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrandColor([u8; 3]);

impl BrandColor {
    /// Rapport's own blue, when no admin chose one.
    pub const DEFAULT: Self = Self([0x1f, 0x4e, 0x8c]);

    /// Checks a colour, naming the field `color`: exactly `#` and six hex digits.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new("color", "must be a colour written #rrggbb");
        let hex = raw.trim().strip_prefix('#').ok_or_else(bad)?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        Ok(Self([byte(0)?, byte(2)?, byte(4)?]))
    }

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// The colour's relative luminance (WCAG 2), 0 (black) to 1 (white).
    pub fn luminance(self) -> f64 {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0;
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }

    /// Text to write on this colour: white or black, whichever contrasts more (WCAG
    /// contrast ratio) — at least 4.58:1 whatever colour an admin picks.
    pub fn text_on(self) -> &'static str {
        let l = self.luminance();
        if 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 {
            "#ffffff"
        } else {
            "#000000"
        }
    }

    /// The contrast ratio (WCAG 2) between this colour and the text [`Self::text_on`]
    /// picks.
    pub fn contrast(self) -> f64 {
        let l = self.luminance();
        let text = if self.text_on() == "#ffffff" {
            1.0
        } else {
            0.0
        };
        let (hi, lo) = if l > text { (l, text) } else { (text, l) };
        (hi + 0.05) / (lo + 0.05)
    }
}

/// The image formats a logo may be: raster images browsers show in `<img>`, told apart
/// by their first bytes (never by what the upload claims). SVG is refused: it can carry
/// script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
}

impl LogoFormat {
    /// The largest logo, in bytes.
    pub const MAX_BYTES: usize = 200 * 1024;

    /// The format of an uploaded logo, naming the field `logo` when it is too large or
    /// not one of the formats.
    pub fn sniff(data: &[u8]) -> Result<Self, FieldError> {
        if data.len() > Self::MAX_BYTES {
            return Err(FieldError::new("logo", "must be at most 200 KB"));
        }
        let format = if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Self::Png
        } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
            Self::Jpeg
        } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
            Self::Gif
        } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
            Self::Webp
        } else {
            return Err(FieldError::new(
                "logo",
                "must be a PNG, JPEG, GIF or WebP image",
            ));
        };
        Ok(format)
    }

    /// The media type to serve it with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }

    /// The format of a stored media type.
    pub fn from_content_type(t: &str) -> Option<Self> {
        [Self::Png, Self::Jpeg, Self::Gif, Self::Webp]
            .into_iter()
            .find(|f| f.content_type() == t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_must_be_six_hex_digits() {
        assert_eq!(BrandColor::parse(" #1F4E8c ").unwrap().hex(), "#1f4e8c");
        for bad in [
            "1f4e8c",
            "#1f4e8",
            "#1f4e8cc",
            "#gggggg",
            "red",
            "#1f4e8c;}",
            "",
        ] {
            assert_eq!(BrandColor::parse(bad).unwrap_err().field, "color", "{bad}");
        }
    }

    #[test]
    fn text_on_any_colour_reaches_aa_contrast() {
        for raw in [
            "#000000", "#ffffff", "#ffff00", "#1f4e8c", "#777777", "#ff0000", "#00ff00",
        ] {
            let c = BrandColor::parse(raw).unwrap();
            assert!(c.contrast() >= 4.5, "{raw}: {}", c.contrast());
        }
        assert_eq!(BrandColor::parse("#ffff00").unwrap().text_on(), "#000000");
        assert_eq!(BrandColor::DEFAULT.text_on(), "#ffffff");
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(
            BrandName::parse("  Acme Help ").unwrap().as_str(),
            "Acme Help"
        );
        assert!(BrandName::parse("").is_err());
        assert!(BrandName::parse(&"x".repeat(81)).is_err());
        assert!(BrandName::parse("a\u{1b}b").is_err());
    }

    #[test]
    fn logos_are_told_by_their_bytes() {
        assert_eq!(
            LogoFormat::sniff(b"\x89PNG\r\n\x1a\nrest").unwrap(),
            LogoFormat::Png
        );
        assert_eq!(LogoFormat::sniff(b"GIF89a..").unwrap(), LogoFormat::Gif);
        assert_eq!(
            LogoFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(),
            LogoFormat::Webp
        );
        assert!(LogoFormat::sniff(b"<svg onload=alert(1)>").is_err());
        let big = [
            b"\x89PNG\r\n\x1a\n".as_slice(),
            &vec![0; LogoFormat::MAX_BYTES],
        ]
        .concat();
        assert_eq!(LogoFormat::sniff(&big).unwrap_err().field, "logo");
        assert_eq!(
            LogoFormat::from_content_type("image/gif"),
            Some(LogoFormat::Gif)
        );
        assert_eq!(LogoFormat::from_content_type("image/svg+xml"), None);
    }
}
