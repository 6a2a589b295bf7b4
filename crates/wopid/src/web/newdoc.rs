//! Empty documents for "New document": the smallest packages that every editor opens as a
//! blank text document, spreadsheet or presentation.
//!
//! wopid writes them itself rather than shipping binary templates, so they are reviewable and
//! identical on every build. When the default editor for the type offers `editnew`, "New document"
//! stores a zero-byte file for it to fill instead; these serve the editors (and extensions) that do
//! not, and servers without an editor.

use std::io::{Cursor, Write as _};

use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

/// The extensions [`empty_document`] can create, in menu order.
pub const NEW_DOCUMENT_EXTENSIONS: [&str; 6] = ["docx", "xlsx", "pptx", "odt", "ods", "odp"];

/// A valid empty document for `ext` (any case, leading dot optional), or `None` for an
/// extension wopid cannot create.
pub fn empty_document(ext: &str) -> Option<Vec<u8>> {
    let ext = ext.trim().trim_start_matches('.').to_ascii_lowercase();
    let parts: &[(&str, &str)] = match ext.as_str() {
        "docx" => DOCX,
        "xlsx" => XLSX,
        "pptx" => PPTX,
        "odt" => return odf(ODT_MIME, ODT_CONTENT, None),
        "ods" => return odf(ODS_MIME, ODS_CONTENT, None),
        "odp" => return odf(ODP_MIME, ODP_CONTENT, Some(ODP_STYLES)),
        _ => return None,
    };
    package(parts.iter().map(|(name, body)| (*name, *body, true)))
}

/// Zips `(name, content, deflate)` entries in order. Writing to memory cannot fail except for a
/// programming error (a duplicate name), which the tests rule out.
fn package<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str, bool)>) -> Option<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, body, deflate) in entries {
        let method = if deflate {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        };
        let options = SimpleFileOptions::default().compression_method(method);
        zip.start_file(name, options).ok()?;
        zip.write_all(body.as_bytes()).ok()?;
    }
    zip.finish().ok().map(Cursor::into_inner)
}

/// An ODF package: `mimetype` first and stored, so that tools can sniff the type at byte 38.
fn odf(mime: &str, content: &str, styles: Option<&str>) -> Option<Vec<u8>> {
    let styles_entry = if styles.is_some() {
        "\n <manifest:file-entry manifest:full-path=\"styles.xml\" manifest:media-type=\"text/xml\"/>"
    } else {
        ""
    };
    let manifest = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="{mime}"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>{styles_entry}
</manifest:manifest>
"#
    );
    let mut entries = vec![("mimetype", mime, false), ("content.xml", content, true)];
    if let Some(styles) = styles {
        entries.push(("styles.xml", styles, true));
    }
    entries.push(("META-INF/manifest.xml", manifest.as_str(), true));
    package(entries)
}

macro_rules! xml {
    ($($part:expr),+ $(,)?) => { concat!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#, "\n", $($part),+) };
}

const DOCX: &[(&str, &str)] = &[
    (
        "[Content_Types].xml",
        xml!(
            r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
            r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>"#,
            r#"<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>"#,
            r#"<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>"#,
            "</Types>"
        ),
    ),
    (
        "_rels/.rels",
        xml!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
            r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>"#,
            "</Relationships>"
        ),
    ),
    (
        "word/_rels/document.xml.rels",
        xml!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
            r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>"#,
            "</Relationships>"
        ),
    ),
    (
        "word/document.xml",
        xml!(
            r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">"#,
            "<w:body><w:p/></w:body></w:document>"
        ),
    ),
    (
        "word/styles.xml",
        xml!(
            r#"<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">"#,
            r#"<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:eastAsia="Calibri" w:hAnsi="Calibri" w:cs="Calibri"/>"#,
            r#"<w:sz w:val="22"/><w:szCs w:val="22"/></w:rPr></w:rPrDefault>"#,
            r#"<w:pPrDefault><w:pPr><w:spacing w:after="160" w:line="259" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>"#,
            r#"<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>"#,
            "</w:styles>"
        ),
    ),
];

const XLSX: &[(&str, &str)] = &[
    (
        "[Content_Types].xml",
        xml!(
            r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
            r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>"#,
            r#"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
            r#"<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#,
            r#"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#,
            "</Types>"
        ),
    ),
    (
        "_rels/.rels",
        xml!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
            r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>"#,
            "</Relationships>"
        ),
    ),
    (
        "xl/_rels/workbook.xml.rels",
        xml!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
            r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#,
            r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>"#,
            "</Relationships>"
        ),
    ),
    (
        "xl/workbook.xml",
        xml!(
            r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#,
            r#"<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        ),
    ),
    (
        "xl/worksheets/sheet1.xml",
        xml!(
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
            "<sheetData/></worksheet>"
        ),
    ),
    (
        "xl/styles.xml",
        xml!(
            r#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
            r#"<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>"#,
            r#"<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>"#,
            r#"<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"#,
            r#"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#,
            r#"<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>"#,
            r#"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>"#,
            "</styleSheet>"
        ),
    ),
];

macro_rules! pml {
    ($root:literal, $($part:expr),+ $(,)?) => {
        xml!(
            "<", $root,
            r#" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main""#,
            $($part),+
        )
    };
}

/// A placeholder shape; `xfrm` empty to inherit the position from the layout or master.
macro_rules! placeholder {
    ($id:literal, $name:literal, $ph:literal, $xfrm:literal) => {
        concat!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id=""#, $id, r#"" name=""#, $name, r#""/>"#,
            r#"<p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr>"#, $ph, "</p:nvPr></p:nvSpPr>",
            "<p:spPr>", $xfrm, "</p:spPr>",
            r#"<p:txBody><a:bodyPr/><a:lstStyle/><a:p><a:endParaRPr lang="en-US"/></a:p></p:txBody></p:sp>"#
        )
    };
}

const PPTX: &[(&str, &str)] = &[
    (
        "[Content_Types].xml",
        xml!(
            r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
            r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>"#,
            r#"<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>"#,
            r#"<Override PartName="/ppt/slideMasters/slideMaster1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml"/>"#,
            r#"<Override PartName="/ppt/slideLayouts/slideLayout1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml"/>"#,
            r#"<Override PartName="/ppt/slides/slide1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>"#,
            r#"<Override PartName="/ppt/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>"#,
            r#"<Override PartName="/ppt/presProps.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presProps+xml"/>"#,
            r#"<Override PartName="/ppt/tableStyles.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.tableStyles+xml"/>"#,
            "</Types>"
        ),
    ),
    (
        "_rels/.rels",
        xml!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
            r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="ppt/presentation.xml"/>"#,
            "</Relationships>"
        ),
    ),
    (
        "ppt/_rels/presentation.xml.rels",
        xml!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
            r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideMaster" Target="slideMasters/slideMaster1.xml"/>"#,
            r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide1.xml"/>"#,
            r#"<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme" Target="theme/theme1.xml"/>"#,
            r#"<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/presProps" Target="presProps.xml"/>"#,
            r#"<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/tableStyles" Target="tableStyles.xml"/>"#,
            "</Relationships>"
        ),
    ),
    (
        "ppt/presentation.xml",
        pml!(
            "p:presentation",
            r#" saveSubsetFonts="1">"#,
            r#"<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>"#,
            r#"<p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst>"#,
            r#"<p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/>"#,
            "</p:presentation>"
        ),
    ),
    ("ppt/presProps.xml", pml!("p:presentationPr", "/>")),
    (
        "ppt/tableStyles.xml",
        xml!(
            r#"<a:tblStyleLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" def="{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}"/>"#
        ),
    ),
    (
        "ppt/slideMasters/_rels/slideMaster1.xml.rels",
        xml!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
            r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideLayout" Target="../slideLayouts/slideLayout1.xml"/>"#,
            r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme" Target="../theme/theme1.xml"/>"#,
            "</Relationships>"
        ),
    ),
    (
        "ppt/slideMasters/slideMaster1.xml",
        pml!(
            "p:sldMaster",
            ">",
            r#"<p:cSld><p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg>"#,
            r#"<p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>"#,
            r#"<p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>"#,
            placeholder!(
                "2",
                "Title Placeholder 1",
                r#"<p:ph type="title"/>"#,
                r#"<a:xfrm><a:off x="838200" y="365125"/><a:ext cx="10515600" cy="1325563"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>"#
            ),
            placeholder!(
                "3",
                "Text Placeholder 2",
                r#"<p:ph type="body" idx="1"/>"#,
                r#"<a:xfrm><a:off x="838200" y="1825625"/><a:ext cx="10515600" cy="4351338"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>"#
            ),
            "</p:spTree></p:cSld>",
            r#"<p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/>"#,
            r#"<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst>"#,
            "<p:txStyles>",
            r#"<p:titleStyle><a:lvl1pPr algn="l"><a:defRPr sz="4400" kern="1200"><a:solidFill><a:schemeClr val="tx1"/></a:solidFill><a:latin typeface="+mj-lt"/><a:ea typeface="+mj-ea"/><a:cs typeface="+mj-cs"/></a:defRPr></a:lvl1pPr></p:titleStyle>"#,
            r#"<p:bodyStyle><a:lvl1pPr marL="228600" indent="-228600" algn="l"><a:buFont typeface="Arial"/><a:buChar char="&#8226;"/><a:defRPr sz="2800" kern="1200"><a:solidFill><a:schemeClr val="tx1"/></a:solidFill><a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/><a:cs typeface="+mn-cs"/></a:defRPr></a:lvl1pPr></p:bodyStyle>"#,
            r#"<p:otherStyle><a:defPPr><a:defRPr lang="en-US"/></a:defPPr></p:otherStyle>"#,
            "</p:txStyles></p:sldMaster>"
        ),
    ),
    (
        "ppt/slideLayouts/_rels/slideLayout1.xml.rels",
        xml!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
            r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideMaster" Target="../slideMasters/slideMaster1.xml"/>"#,
            "</Relationships>"
        ),
    ),
    (
        "ppt/slideLayouts/slideLayout1.xml",
        pml!(
            "p:sldLayout",
            r#" type="title" preserve="1">"#,
            r#"<p:cSld name="Title Slide">"#,
            r#"<p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>"#,
            r#"<p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>"#,
            placeholder!(
                "2",
                "Title 1",
                r#"<p:ph type="ctrTitle"/>"#,
                r#"<a:xfrm><a:off x="1524000" y="1122363"/><a:ext cx="9144000" cy="2387600"/></a:xfrm>"#
            ),
            placeholder!(
                "3",
                "Subtitle 2",
                r#"<p:ph type="subTitle" idx="1"/>"#,
                r#"<a:xfrm><a:off x="1524000" y="3602038"/><a:ext cx="9144000" cy="1655762"/></a:xfrm>"#
            ),
            "</p:spTree></p:cSld>",
            r#"<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>"#
        ),
    ),
    (
        "ppt/slides/_rels/slide1.xml.rels",
        xml!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
            r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideLayout" Target="../slideLayouts/slideLayout1.xml"/>"#,
            "</Relationships>"
        ),
    ),
    (
        "ppt/slides/slide1.xml",
        pml!(
            "p:sld",
            ">",
            "<p:cSld>",
            r#"<p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>"#,
            r#"<p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>"#,
            placeholder!("2", "Title 1", r#"<p:ph type="ctrTitle"/>"#, ""),
            placeholder!("3", "Subtitle 2", r#"<p:ph type="subTitle" idx="1"/>"#, ""),
            "</p:spTree></p:cSld>",
            r#"<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>"#
        ),
    ),
    ("ppt/theme/theme1.xml", THEME),
];

/// A complete DrawingML theme: PowerPoint insists on all twelve colours, both font groups and
/// three entries in each format-scheme list.
const THEME: &str = xml!(
    r#"<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office Theme"><a:themeElements>"#,
    r#"<a:clrScheme name="Office">"#,
    r#"<a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1><a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1>"#,
    r#"<a:dk2><a:srgbClr val="44546A"/></a:dk2><a:lt2><a:srgbClr val="E7E6E6"/></a:lt2>"#,
    r#"<a:accent1><a:srgbClr val="4472C4"/></a:accent1><a:accent2><a:srgbClr val="ED7D31"/></a:accent2>"#,
    r#"<a:accent3><a:srgbClr val="A5A5A5"/></a:accent3><a:accent4><a:srgbClr val="FFC000"/></a:accent4>"#,
    r#"<a:accent5><a:srgbClr val="5B9BD5"/></a:accent5><a:accent6><a:srgbClr val="70AD47"/></a:accent6>"#,
    r#"<a:hlink><a:srgbClr val="0563C1"/></a:hlink><a:folHlink><a:srgbClr val="954F72"/></a:folHlink>"#,
    "</a:clrScheme>",
    r#"<a:fontScheme name="Office">"#,
    r#"<a:majorFont><a:latin typeface="Calibri Light"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont>"#,
    r#"<a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont>"#,
    "</a:fontScheme>",
    r#"<a:fmtScheme name="Office"><a:fillStyleLst>"#,
    r#"<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>"#,
    r#"<a:solidFill><a:schemeClr val="phClr"><a:tint val="50000"/></a:schemeClr></a:solidFill>"#,
    r#"<a:solidFill><a:schemeClr val="phClr"><a:shade val="80000"/></a:schemeClr></a:solidFill>"#,
    "</a:fillStyleLst><a:lnStyleLst>",
    r#"<a:ln w="6350"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln>"#,
    r#"<a:ln w="12700"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln>"#,
    r#"<a:ln w="19050"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln>"#,
    "</a:lnStyleLst><a:effectStyleLst>",
    "<a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle>",
    "</a:effectStyleLst><a:bgFillStyleLst>",
    r#"<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>"#,
    r#"<a:solidFill><a:schemeClr val="phClr"><a:tint val="95000"/></a:schemeClr></a:solidFill>"#,
    r#"<a:solidFill><a:schemeClr val="phClr"><a:shade val="90000"/></a:schemeClr></a:solidFill>"#,
    "</a:bgFillStyleLst></a:fmtScheme>",
    "</a:themeElements></a:theme>"
);

const ODT_MIME: &str = "application/vnd.oasis.opendocument.text";
const ODS_MIME: &str = "application/vnd.oasis.opendocument.spreadsheet";
const ODP_MIME: &str = "application/vnd.oasis.opendocument.presentation";

macro_rules! odf_content {
    ($ns:literal, $body:literal) => {
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n",
            r#"<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" "#,
            $ns,
            r#" office:version="1.2"><office:body>"#,
            $body,
            "</office:body></office:document-content>\n"
        )
    };
}

const ODT_CONTENT: &str = odf_content!(
    r#"xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0""#,
    "<office:text><text:p/></office:text>"
);

const ODS_CONTENT: &str = odf_content!(
    r#"xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0""#,
    r#"<office:spreadsheet><table:table table:name="Sheet1"><table:table-column/><table:table-row><table:table-cell/></table:table-row></table:table></office:spreadsheet>"#
);

const ODP_CONTENT: &str = odf_content!(
    r#"xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0""#,
    r#"<office:presentation><draw:page draw:name="page1" draw:master-page-name="Default"/></office:presentation>"#
);

/// A presentation page must name a master page, which lives in styles.xml (16:9, as editors
/// create by default).
const ODP_STYLES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    "\n",
    r#"<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" office:version="1.2">"#,
    r#"<office:automatic-styles><style:page-layout style:name="PM1"><style:page-layout-properties fo:margin-top="0cm" fo:margin-bottom="0cm" fo:margin-left="0cm" fo:margin-right="0cm" fo:page-width="28cm" fo:page-height="15.75cm" style:print-orientation="landscape"/></style:page-layout></office:automatic-styles>"#,
    r#"<office:master-styles><style:master-page style:name="Default" style:page-layout-name="PM1"/></office:master-styles>"#,
    "</office:document-styles>\n"
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn entries(bytes: &[u8]) -> Vec<(String, CompressionMethod, String)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip archive");
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).expect("entry");
                let mut body = String::new();
                file.read_to_string(&mut body).expect("UTF-8 entry");
                let name = file.name().expect("UTF-8 name").into_owned();
                (name, file.compression(), body)
            })
            .collect()
    }

    /// Cheap well-formedness check: every `<` closes, tags balance, no stray `&`.
    fn assert_well_formed(name: &str, xml: &str) {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = xml;
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            let close = after
                .find('>')
                .unwrap_or_else(|| panic!("{name}: unclosed tag"));
            let tag = &after[..close];
            rest = &after[close + 1..];
            if tag.starts_with('?') || tag.starts_with('!') {
                continue;
            }
            if let Some(end) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(end.trim()), "{name}: mismatched </{end}>");
            } else if !tag.ends_with('/') {
                let tname = tag.split_whitespace().next().unwrap_or_default();
                stack.push(tname);
            }
        }
        assert!(stack.is_empty(), "{name}: unclosed {stack:?}");
        for (i, _) in xml.match_indices('&') {
            let entity = &xml[i..xml.len().min(i + 8)];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "{name}: stray & at {entity}"
            );
        }
    }

    #[test]
    fn unknown_extensions() {
        for ext in ["", "doc", "txt", "wopitest", "docx.exe", "x"] {
            assert_eq!(empty_document(ext), None, "{ext}");
        }
        assert!(empty_document(".DOCX").is_some());
        assert!(empty_document(" Odt ").is_some());
    }

    #[test]
    fn every_extension_is_a_zip_of_well_formed_xml() {
        for ext in NEW_DOCUMENT_EXTENSIONS {
            let bytes = empty_document(ext).expect("known extension");
            assert_eq!(
                &bytes[..4],
                b"PK\x03\x04",
                "{ext}: ZIP magic, as Collabora checks"
            );
            assert_eq!(
                Some(&bytes),
                empty_document(ext).as_ref(),
                "{ext}: deterministic"
            );
            let files = entries(&bytes);
            let mut names: Vec<&str> = files.iter().map(|(n, _, _)| n.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), files.len(), "{ext}: duplicate entries");
            for (name, _, body) in &files {
                if name.ends_with(".xml") || name.ends_with(".rels") {
                    assert_well_formed(name, body);
                }
            }
        }
    }

    #[test]
    fn ooxml_packages_declare_their_parts() {
        let table = [
            (
                "docx",
                "/word/document.xml",
                "wordprocessingml.document.main+xml",
            ),
            ("xlsx", "/xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
            (
                "pptx",
                "/ppt/presentation.xml",
                "presentationml.presentation.main+xml",
            ),
        ];
        for (ext, main, content_type) in table {
            let files = entries(&empty_document(ext).expect("known"));
            assert_eq!(files[0].0, "[Content_Types].xml", "{ext}");
            let types = &files[0].2;
            assert!(
                types.contains(&format!(
                    r#"<Override PartName="{main}" ContentType="application/vnd.openxmlformats-officedocument.{content_type}"/>"#
                )),
                "{ext}: main part content type"
            );
            assert!(types.contains(r#"<Default Extension="rels""#), "{ext}");
            let rels = files
                .iter()
                .find(|(n, _, _)| n == "_rels/.rels")
                .expect("package relationships");
            assert!(
                rels.2
                    .contains(&format!(r#"Target="{}""#, main.trim_start_matches('/'))),
                "{ext}: _rels/.rels points at the main part"
            );
            // Every part is either declared by an Override or is a .rels part, and every
            // Override names a part that exists.
            for (name, _, _) in &files[1..] {
                assert!(
                    name.ends_with(".rels") || types.contains(&format!(r#"PartName="/{name}""#)),
                    "{ext}: {name} has no content type"
                );
            }
            for part in types.split(r#"PartName="/"#).skip(1) {
                let part = part.split('"').next().unwrap_or_default();
                assert!(
                    files.iter().any(|(n, _, _)| n == part),
                    "{ext}: {part} declared but missing"
                );
            }
        }
    }

    #[test]
    fn odf_packages_start_with_a_stored_mimetype() {
        for (ext, mime) in [("odt", ODT_MIME), ("ods", ODS_MIME), ("odp", ODP_MIME)] {
            let bytes = empty_document(ext).expect("known");
            // The ODF rule that lets tools sniff the type: the first local header is `mimetype`,
            // stored, no extra field, so the media type sits at byte 38.
            assert_eq!(&bytes[30..38], b"mimetype", "{ext}");
            assert_eq!(&bytes[8..10], &[0, 0], "{ext}: stored");
            assert_eq!(&bytes[28..30], &[0, 0], "{ext}: no extra field");
            assert_eq!(&bytes[38..38 + mime.len()], mime.as_bytes(), "{ext}");
            let files = entries(&bytes);
            assert_eq!(files[0].0, "mimetype");
            assert_eq!(files[0].1, CompressionMethod::Stored);
            assert_eq!(files[0].2, mime);
            let manifest = files
                .iter()
                .find(|(n, _, _)| n == "META-INF/manifest.xml")
                .expect("manifest");
            assert!(manifest.2.contains(&format!(
                r#"manifest:full-path="/" manifest:version="1.2" manifest:media-type="{mime}""#
            )));
            for (name, _, _) in &files {
                if name != "mimetype" && !name.starts_with("META-INF/") {
                    assert!(
                        manifest
                            .2
                            .contains(&format!(r#"manifest:full-path="{name}""#)),
                        "{ext}: {name} missing from the manifest"
                    );
                }
            }
            assert!(files.iter().any(|(n, _, _)| n == "content.xml"), "{ext}");
        }
    }

    /// Writes every empty document into `$WOPID_NEWDOC_DIR`, to open them in real office suites:
    /// `WOPID_NEWDOC_DIR=/tmp/newdoc cargo test -p wopid newdoc -- --ignored`, then e.g.
    /// `soffice --headless --convert-to pdf --outdir /tmp/newdoc/pdf /tmp/newdoc/empty.*`.
    #[test]
    #[ignore = "writes files for a manual check with an office suite"]
    fn write_samples() {
        let Ok(dir) = std::env::var("WOPID_NEWDOC_DIR") else {
            return;
        };
        std::fs::create_dir_all(&dir).expect("create the sample directory");
        for ext in NEW_DOCUMENT_EXTENSIONS {
            let path = std::path::Path::new(&dir).join(format!("empty.{ext}"));
            let mut file = std::fs::File::create(path).expect("create a sample");
            file.write_all(&empty_document(ext).expect("known"))
                .expect("write a sample");
        }
    }
}
