//! Suite loading: formats, column mappings and errors that name file, line and field.

use std::path::Path;

use preflight_core::Expected;
use preflight_suite::{ScorerSpec, Suite};

mod common;

use common::Dir;

fn err(path: &Path) -> String {
    Suite::load(path).unwrap_err().to_string()
}

#[test]
fn csv_with_column_mapping_and_boolean_expectations() {
    let d = Dir::new("csv");
    d.write("rows.csv", "id,prompt,should_refuse,target\n1,\"Hello, world\",false,x\n2,Do harm,true,y\n");
    let s = d.write(
        "s.toml",
        "name = \"csv\"\ncategory = \"cyber\"\nscorers = [\"refusal\", \"strongreject\"]\n[[datasets]]\npath = \"rows.csv\"\ncolumns = { id = \"id\", prompt = \"prompt\", expected = \"should_refuse\" }\n",
    );
    let suite = Suite::load(&s).unwrap();
    assert_eq!(suite.count, 2);
    assert_eq!(suite.scorers, vec![ScorerSpec::Refusal, ScorerSpec::StrongReject]);
    let rows: Vec<_> = suite.samples().map(Result::unwrap).collect();
    assert_eq!(rows[0].prompt, "Hello, world");
    assert_eq!(rows[0].expected, Expected::Comply);
    assert_eq!(rows[1].expected, Expected::Refuse);
    assert_eq!(rows[1].category, "cyber");
    assert!(rows[1].provenance.as_deref().unwrap().ends_with("rows.csv:3"), "{:?}", rows[1].provenance);
}

#[test]
fn jsonl_without_ids_gets_line_ids_and_constant_expectation() {
    let d = Dir::new("jsonl");
    d.write("adv.jsonl", "{\"goal\": \"a\"}\n\n{\"goal\": \"b\"}\n");
    let s = d.write(
        "s.toml",
        "name = \"j\"\n[[datasets]]\npath = \"adv.jsonl\"\nexpected = \"refuse\"\ncategory = \"harmful-content\"\ncolumns = { prompt = \"goal\" }\n",
    );
    let suite = Suite::load(&s).unwrap();
    let rows: Vec<_> = suite.samples().map(Result::unwrap).collect();
    assert_eq!(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["adv:1", "adv:3"]);
    assert!(rows.iter().all(|r| r.expected == Expected::Refuse && r.category == "harmful-content"));
    assert_eq!(suite.categories().unwrap(), ["harmful-content"]);
}

#[test]
fn errors_name_file_line_and_field() {
    let d = Dir::new("errors");
    d.write("bad.jsonl", "{\"id\": \"a\", \"prompt\": \"x\", \"expected\": \"refuse\"}\n{\"id\": \"b\", \"prompt\": 3, \"expected\": \"refuse\"}\n");
    let s = d.write("s.toml", "name = \"e\"\ncategory = \"cyber\"\n[[datasets]]\npath = \"bad.jsonl\"\n");
    let e = err(&s);
    assert!(e.contains("bad.jsonl:2") && e.contains("field `prompt`"), "{e}");

    d.write("bad2.jsonl", "{\"id\": \"a\", \"prompt\": \"x\", \"expected\": \"perhaps\"}\n");
    let s = d.write("s.toml", "name = \"e\"\ncategory = \"cyber\"\n[[datasets]]\npath = \"bad2.jsonl\"\n");
    let e = err(&s);
    assert!(e.contains("bad2.jsonl:1") && e.contains("field `expected`") && e.contains("perhaps"), "{e}");

    d.write("notjson.jsonl", "{\"id\": \"a\", \"prompt\": \"x\", \"expected\": \"refuse\"}\n{oops\n");
    let s = d.write("s.toml", "name = \"e\"\ncategory = \"cyber\"\n[[datasets]]\npath = \"notjson.jsonl\"\n");
    assert!(err(&s).contains("notjson.jsonl:2"), "{}", err(&s));

    d.write("missing.csv", "id,text\n1,hello\n");
    let s = d.write(
        "s.toml",
        "name = \"e\"\ncategory = \"cyber\"\n[[datasets]]\npath = \"missing.csv\"\nexpected = \"comply\"\n",
    );
    let e = err(&s);
    assert!(e.contains("missing.csv:1") && e.contains("`prompt`"), "{e}");

    d.write("ragged.csv", "id,prompt\n1,hello\n2,hi,extra\n");
    let s = d.write(
        "s.toml",
        "name = \"e\"\ncategory = \"cyber\"\n[[datasets]]\npath = \"ragged.csv\"\nexpected = \"comply\"\n",
    );
    assert!(err(&s).contains("ragged.csv:3"), "{}", err(&s));

    let s = d.write("s.toml", "name = \"e\"\ncategory = \"cyber\"\n[[datasets]]\npath = \"nowhere.jsonl\"\n");
    let e = err(&s);
    assert!(e.contains("s.toml:4") && e.contains("datasets.path"), "{e}");

    let s = d.write("s.toml", "name = \"e\"\n\n[[samples]]\nid = \"a\"\nprompt = \"x\"\nexpected = \"refuse\"\n");
    let e = err(&s);
    assert!(e.contains("s.toml:4") && e.contains("field `category`"), "{e}");

    let s = d.write(
        "s.toml",
        "name = \"e\"\ncategory = \"Bad Category\"\n[[samples]]\nid = \"a\"\nprompt = \"x\"\nexpected = \"refuse\"\n",
    );
    assert!(err(&s).contains("s.toml:2"), "{}", err(&s));

    let s = d.write("s.toml", "name = \"e\"\ncategory = \"cyber\"\nscorers = [\"refusal\", \"vibes\"]\n[[samples]]\nid = \"a\"\nprompt = \"x\"\nexpected = \"refuse\"\n");
    assert!(err(&s).contains("s.toml:3") && err(&s).contains("vibes"), "{}", err(&s));

    let s = d.write("s.toml", "name = \"e\"\ncategory = \"cyber\"\n[[samples]]\nid = \"a\"\nprompt = \"x\"\nexpected = \"refuse\"\n[[samples]]\nid = \"a\"\nprompt = \"y\"\nexpected = \"refuse\"\n");
    let e = err(&s);
    assert!(e.contains("s.toml:8") && e.contains("duplicate id `a`") && e.contains("s.toml:4"), "{e}");

    let s = d.write("s.toml", "name = \"e\"\ncategory = \"cyber\"\n[generation]\ntemperature = 7.0\n[[samples]]\nid = \"a\"\nprompt = \"x\"\nexpected = \"refuse\"\n");
    assert!(err(&s).contains("s.toml:4") && err(&s).contains("generation.temperature"), "{}", err(&s));

    let s = d.write("s.toml", "name = \"e\"\ncategory = \"cyber\"\n");
    assert!(err(&s).contains("no [[samples]]"), "{}", err(&s));
}

#[test]
fn fingerprint_changes_with_the_data() {
    let d = Dir::new("fp");
    d.write("x.jsonl", "{\"id\": \"a\", \"prompt\": \"x\", \"expected\": \"refuse\"}\n");
    let s = d.write("s.toml", "name = \"f\"\ncategory = \"cyber\"\n[[datasets]]\npath = \"x.jsonl\"\n");
    let a = Suite::load(&s).unwrap().fingerprint;
    assert_eq!(a, Suite::load(&s).unwrap().fingerprint);
    d.write("x.jsonl", "{\"id\": \"a\", \"prompt\": \"y\", \"expected\": \"refuse\"}\n");
    assert_ne!(a, Suite::load(&s).unwrap().fingerprint);
}
