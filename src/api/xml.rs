//! The SPCM face's XML representation (contract §2.1): element names are the JSON keys,
//! a null field is an absent element, links are left out. One converter each way, over
//! the same JSON the face sends and reads, so the XML can never say something else.
//!
//! Reading refuses a document type declaration and any entity reference but the five
//! predefined ones and character references: nothing is ever expanded or fetched.
//!
//! Writing is well-formed whatever the stored text: a character that XML 1.0 cannot
//! carry (a control character or U+FFFE/U+FFFF, which older rows may hold) is written as
//! U+FFFD, the replacement character; JSON gives the text as stored.

use std::borrow::Cow;
use std::io::Cursor;

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};
use serde_json::{Map, Value};

/// Why a request body in XML is refused: a sentence for the 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct XmlRefused(String);

impl From<String> for XmlRefused {
    fn from(why: String) -> Self {
        XmlRefused(why)
    }
}

impl From<&str> for XmlRefused {
    fn from(why: &str) -> Self {
        XmlRefused(why.to_owned())
    }
}

/// Nesting accepted in a request document: a batch, a profile, a field, a field's parts.
const MAX_DEPTH: usize = 4;

/// The fields of a profile that are booleans and integers in JSON.
const BOOLEAN_FIELDS: [&str; 5] =
    ["defaultProfile", "dpsEnabled", "dpsNotification", "eosNotification", "paygNotification"];
const INTEGER_FIELDS: [&str; 1] = ["id"];

/// The root element of a response body, from its shape.
fn root_of(value: &Value) -> &'static str {
    let has = |key: &str| value.get(key).is_some();
    if has("provisioningProfileDTOList") {
        "provisioningProfiles"
    } else if has("results") {
        "multiStatus"
    } else if has("errors") {
        "errors"
    } else if has("message") {
        "error"
    } else if has("changes") {
        "changes"
    } else {
        "provisioningProfile"
    }
}

/// The element of each item of an array under `key`.
fn item_of(key: &str) -> &str {
    match key {
        "provisioningProfileDTOList" => "provisioningProfile",
        "results" => "result",
        "errors" => "error",
        "changes" => "change",
        "changedFields" => "field",
        other => other.strip_suffix('s').unwrap_or("item"),
    }
}

type XmlWriter = Writer<Cursor<Vec<u8>>>;

/// XML 1.0's `Char` production: the characters a document can hold.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `text` as element content: `<`, `>` and `&` escaped (quotes stay as they are), a
/// carriage return as a reference (a reader would make a raw one a line feed), and a
/// character XML cannot hold replaced with U+FFFD.
fn escape_text(text: &str) -> Cow<'_, str> {
    let plain = |c: char| is_xml_char(c) && !matches!(c, '<' | '>' | '&' | '\r');
    if text.chars().all(plain) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '\r' => escaped.push_str("&#13;"),
            c if is_xml_char(c) => escaped.push(c),
            _ => escaped.push(char::REPLACEMENT_CHARACTER),
        }
    }
    Cow::Owned(escaped)
}

fn write_text(writer: &mut XmlWriter, name: &str, text: &str) -> std::io::Result<()> {
    writer.write_event(Event::Start(BytesStart::new(name)))?;
    writer.write_event(Event::Text(BytesText::from_escaped(escape_text(text))))?;
    writer.write_event(Event::End(BytesEnd::new(name)))
}

fn write_value(writer: &mut XmlWriter, name: &str, value: &Value) -> std::io::Result<()> {
    match value {
        Value::Null => Ok(()),
        Value::Bool(b) => write_text(writer, name, if *b { "true" } else { "false" }),
        Value::Number(n) => write_text(writer, name, &n.to_string()),
        Value::String(s) => write_text(writer, name, s),
        Value::Array(items) => {
            writer.write_event(Event::Start(BytesStart::new(name)))?;
            for item in items {
                write_value(writer, item_of(name), item)?;
            }
            writer.write_event(Event::End(BytesEnd::new(name)))
        }
        Value::Object(fields) => {
            writer.write_event(Event::Start(BytesStart::new(name)))?;
            write_fields(writer, fields)?;
            writer.write_event(Event::End(BytesEnd::new(name)))
        }
    }
}

fn write_fields(writer: &mut XmlWriter, fields: &Map<String, Value>) -> std::io::Result<()> {
    for (key, value) in fields {
        if key != "_links" {
            write_value(writer, key, value)?;
        }
    }
    Ok(())
}

/// A JSON response body of the face as XML.
pub fn to_xml(value: &Value) -> Vec<u8> {
    let mut writer = Writer::new(Cursor::new(Vec::with_capacity(256)));
    let root = root_of(value);
    let written = (|| {
        writer.write_event(Event::Start(BytesStart::new(root)))?;
        match (root, value) {
            // `{"errors": [...]}` is the list itself: `<errors><error>…</error></errors>`.
            ("errors", Value::Object(fields)) => {
                for item in fields.get("errors").and_then(Value::as_array).into_iter().flatten() {
                    write_value(&mut writer, "error", item)?;
                }
            }
            (_, Value::Object(fields)) => write_fields(&mut writer, fields)?,
            (_, other) => write_value(&mut writer, "value", other)?,
        }
        writer.write_event(Event::End(BytesEnd::new(root)))
    })();
    debug_assert!(written.is_ok(), "writing to memory cannot fail");
    let mut bytes = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>".to_vec();
    bytes.extend_from_slice(&writer.into_inner().into_inner());
    bytes
}

/// An element being read: its name, its fields so far, its text so far.
struct Open {
    name: String,
    children: Vec<(String, Value)>,
    text: String,
}

impl Open {
    fn new(name: String) -> Open {
        Open { name, children: Vec::new(), text: String::new() }
    }

    /// The element's JSON value: an object of its children, or its text (typed by the
    /// field's name), or null when empty.
    fn into_value(self) -> Result<(String, Value), XmlRefused> {
        // A batch: `<provisioningProfiles><provisioningProfile>…</provisioningProfile>…`.
        if self.name == "provisioningProfiles" {
            let mut items = Vec::with_capacity(self.children.len());
            for (key, value) in self.children {
                if key != "provisioningProfile" {
                    return Err(
                        format!("<provisioningProfiles> holds <provisioningProfile> elements, not <{key}>").into()
                    );
                }
                items.push(if value.is_null() { Value::Object(Map::new()) } else { value });
            }
            return Ok((self.name, Value::Array(items)));
        }
        if !self.children.is_empty() {
            if !self.text.trim().is_empty() {
                return Err(format!("element <{}> mixes text and elements", self.name).into());
            }
            let mut object = Map::new();
            for (key, value) in self.children {
                if object.insert(key.clone(), value).is_some() {
                    return Err(format!("element <{key}> is given twice in <{}>", self.name).into());
                }
            }
            return Ok((self.name, Value::Object(object)));
        }
        let text = self.text;
        let value = if text.is_empty() {
            Value::Null
        } else if BOOLEAN_FIELDS.contains(&self.name.as_str()) && (text == "true" || text == "false") {
            Value::Bool(text == "true")
        } else if INTEGER_FIELDS.contains(&self.name.as_str()) && text.parse::<i64>().is_ok() {
            Value::from(text.parse::<i64>().unwrap_or_default())
        } else {
            Value::String(text)
        };
        Ok((self.name, value))
    }
}

fn name_of(start: &BytesStart<'_>) -> Result<String, XmlRefused> {
    std::str::from_utf8(start.local_name().into_inner())
        .map(str::to_owned)
        .map_err(|_| XmlRefused::from("an element name is not UTF-8"))
}

/// A request body in XML as the JSON the face reads: `<provisioningProfile>` is one
/// profile (an object), `<provisioningProfiles>` a batch (an array of them).
pub fn from_xml(bytes: &[u8]) -> Result<Value, XmlRefused> {
    let text = std::str::from_utf8(bytes).map_err(|_| XmlRefused::from("the XML body is not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| XmlRefused::from(format!("the request body is not well-formed XML: {e}")))?;
        match event {
            Event::DocType(_) => return Err("a document type declaration is not accepted".into()),
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                return Err(format!("content after the root element: <{}>", name_of(&start)?).into());
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nest deeper than {MAX_DEPTH} levels").into());
                }
                stack.push(Open::new(name_of(&start)?));
            }
            Event::Empty(start) => {
                let (name, value) = Open::new(name_of(&start)?).into_value()?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, value)),
                    None => root = Some((name, value)),
                }
            }
            Event::End(_) => {
                let open = stack.pop().ok_or(XmlRefused::from("an end tag without its start"))?;
                let (name, value) = open.into_value()?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, value)),
                    None => root = Some((name, value)),
                }
            }
            Event::Text(text) => {
                let decoded = text.decode().map_err(|e| XmlRefused::from(format!("bad text in the XML body: {e}")))?;
                append_text(&mut stack, &decoded)?;
            }
            Event::CData(data) => {
                let decoded = data.decode().map_err(|e| XmlRefused::from(format!("bad text in the XML body: {e}")))?;
                append_text(&mut stack, &decoded)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference
                    .resolve_char_ref()
                    .map_err(|e| XmlRefused::from(format!("bad character reference: {e}")))?
                {
                    Some(c) => c,
                    None => {
                        let name =
                            reference.decode().map_err(|e| XmlRefused::from(format!("bad entity reference: {e}")))?;
                        match name.as_ref() {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "apos" => '\'',
                            "quot" => '"',
                            other => return Err(format!("the entity reference &{other}; is not accepted").into()),
                        }
                    }
                };
                append_text(&mut stack, resolved.encode_utf8(&mut [0; 4]))?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("the XML body ends inside an element".into());
    }
    match root {
        Some((name, Value::Object(fields))) if name == "provisioningProfile" => Ok(Value::Object(fields)),
        Some((name, Value::Null)) if name == "provisioningProfile" => Ok(Value::Object(Map::new())),
        Some((name, value)) if name == "provisioningProfiles" => Ok(value),
        Some((name, _)) => {
            Err(format!("the root element must be <provisioningProfile> or <provisioningProfiles>, not <{name}>")
                .into())
        }
        None => Err("the XML body holds no element".into()),
    }
}

fn append_text(stack: &mut [Open], text: &str) -> Result<(), XmlRefused> {
    match stack.last_mut() {
        Some(open) => {
            open.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err("text outside the root element".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn xml(value: Value) -> String {
        String::from_utf8(to_xml(&value)).unwrap()
    }

    #[test]
    fn each_shape_has_its_root_and_items() {
        let profile = json!({"id": 39, "name": "turkeySauce", "defaultProfile": false, "locale": null,
            "_links": {"self": {"href": "/x"}}});
        assert_eq!(
            xml(profile.clone()),
            r#"<?xml version="1.0" encoding="UTF-8"?><provisioningProfile><id>39</id><name>turkeySauce</name><defaultProfile>false</defaultProfile></provisioningProfile>"#
        );
        let list = json!({"length": 1, "provisioningProfileDTOList": [profile.clone()], "_links": {}});
        assert!(xml(list).contains(
            "<provisioningProfiles><length>1</length><provisioningProfileDTOList><provisioningProfile><id>39</id>"
        ));
        let errors = json!({"errors": [{"field": "name", "description": "name is mandatory"}]});
        assert!(xml(errors).ends_with(
            "<errors><error><field>name</field><description>name is mandatory</description></error></errors>"
        ));
        let error = json!({"message": "a < b & c", "errorCode": 404});
        assert!(xml(error).ends_with("<error><message>a &lt; b &amp; c</message><errorCode>404</errorCode></error>"));
        let multi = json!({"length": 1, "results": [{"index": 0, "status": 201, "provisioningProfile": profile}]});
        assert!(xml(multi).contains(
            "<multiStatus><length>1</length><results><result><index>0</index><status>201</status><provisioningProfile>"
        ));
    }

    #[test]
    fn text_that_xml_cannot_carry_is_written_as_the_replacement_character() {
        let stored = "a\u{FFFE}b\u{FFFF}c\u{0}d\u{1B}e\u{7F}\u{85}\u{FDD0}\u{1FFFE}\r\n\t<&>\"'";
        let written = xml(json!({"id": 1, "name": stored}));
        assert!(
            written.contains("<name>a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e\u{7F}\u{85}\u{FDD0}\u{1FFFE}&#13;\n\t&lt;&amp;&gt;\"'</name>"),
            "{written:?}"
        );
        let mut reader = Reader::from_str(&written);
        let mut text = String::new();
        loop {
            match reader.read_event().expect("well-formed") {
                Event::Text(t) => text.push_str(&t.decode().unwrap()),
                Event::GeneralRef(r) => text.push(match r.resolve_char_ref().unwrap() {
                    Some(c) => c,
                    None => match r.decode().unwrap().as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        other => panic!("{other}"),
                    },
                }),
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(text, "1a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e\u{7F}\u{85}\u{FDD0}\u{1FFFE}\r\n\t<&>\"'");
    }

    #[test]
    fn a_profile_and_a_batch_read_back_as_json() {
        let one = from_xml(br#"<?xml version="1.0"?><provisioningProfile><name>a &amp; b&#33;</name><defaultProfile>true</defaultProfile><locale/><id>7</id></provisioningProfile>"#).unwrap();
        assert_eq!(one, json!({"name": "a & b!", "defaultProfile": true, "locale": null, "id": 7}));
        let batch = from_xml(b"<provisioningProfiles><provisioningProfile><name>a</name></provisioningProfile><provisioningProfile><name>b</name></provisioningProfile></provisioningProfiles>").unwrap();
        assert_eq!(batch, json!([{"name": "a"}, {"name": "b"}]));
        let typed =
            from_xml(b"<provisioningProfile><defaultProfile>yes</defaultProfile><id>x</id></provisioningProfile>")
                .unwrap();
        assert_eq!(
            typed,
            json!({"defaultProfile": "yes", "id": "x"}),
            "wrong types stay strings: validation names them"
        );
    }

    #[test]
    fn dangerous_or_malformed_xml_is_refused() {
        let cases: [(&[u8], &str); 7] = [
            (
                br#"<!DOCTYPE p [<!ENTITY x "boom">]><provisioningProfile><name>&x;</name></provisioningProfile>"#,
                "document type",
            ),
            (b"<provisioningProfile><name>&x;</name></provisioningProfile>", "entity reference"),
            (b"<provisioningProfile><name>a</name><name>b</name></provisioningProfile>", "twice"),
            (b"<provisioningProfile><name>a</provisioningProfile>", "well-formed"),
            (b"<other/>", "root element"),
            (b"<provisioningProfiles><x/></provisioningProfiles>", "not <x>"),
            (b"<provisioningProfile><a><b><c><d>deep</d></c></b></a></provisioningProfile>", "deeper"),
        ];
        for (body, why) in cases {
            let err = from_xml(body).unwrap_err().to_string();
            assert!(err.contains(why), "{}: {err}", String::from_utf8_lossy(body));
        }
    }
}
