//! The markup of the self-service pages: one small layout that reads well on a
//! phone, plain forms, and escaping of everything that comes from outside.

use super::text::{self, Texts};
use crate::domain::Language;
use std::fmt::Write;

pub use crate::html::escape;

pub(crate) const STYLE: &str = "\
*{box-sizing:border-box}\
[hidden]{display:none!important}\
body{margin:0;background:#f3f4f6;color:#1f2937;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
main{max-width:28rem;margin:0 auto;padding:1.25rem 1rem 2rem}\
.card{background:#fff;border-radius:.75rem;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}\
h1{font-size:1.4rem;line-height:1.25;margin:0 0 .75rem}\
p{margin:.5rem 0}\
.brand{display:flex;justify-content:space-between;align-items:center;margin-bottom:.75rem;color:#4b5563}\
.brand strong{font-size:1.1rem;color:#1e3a8a}\
.brand a{color:#1e40af}\
label{display:block;font-weight:600;margin:1rem 0 .25rem}\
input{display:block;width:100%;font:inherit;font-size:1.05rem;padding:.7rem .75rem;border:1px solid #9ca3af;border-radius:.5rem;background:#fff;color:inherit}\
input:focus{outline:3px solid #93c5fd;border-color:#1e40af}\
.hint{font-size:.9rem;color:#4b5563;margin:.35rem 0 0}\
button,.button{display:block;width:100%;margin-top:1.5rem;padding:.85rem;font:inherit;font-size:1.1rem;font-weight:600;border:0;border-radius:.5rem;background:#1e40af;color:#fff;text-align:center;text-decoration:none;cursor:pointer}\
.alert{border-left:4px solid #b91c1c;background:#fef2f2;color:#7f1d1d;padding:.6rem .8rem;border-radius:.25rem;margin:.75rem 0}\
.alert ul{margin:.25rem 0 0;padding-left:1.25rem}\
.ok{border-left-color:#15803d;background:#f0fdf4;color:#14532d}\
table{border-collapse:collapse;width:100%;margin-top:1rem;display:block;overflow-x:auto}\
th,td{border-bottom:1px solid #d1d5db;padding:.45rem .5rem;text-align:left;vertical-align:top}\
td input[type=checkbox]{width:1.25rem;height:1.25rem}\
@media print{.brand,form,nav,button,a{display:none}table{display:table}}\
";

/// A whole page around `body`; form pages offer the other language.
fn layout(lang: Language, title: &str, body: &str, switch: bool) -> String {
    let t = text::texts(lang);
    let (other_code, other_name) = t.other_language;
    let switch = if switch {
        format!(
            "<a href=\"?lang={other_code}\" hreflang=\"{other_code}\" lang=\"{other_code}\">{other_name}</a>"
        )
    } else {
        String::new()
    };
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"robots\" content=\"noindex, nofollow\">\n\
         <title>{title} · Sésame</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <div class=\"brand\"><strong>Sésame</strong>{switch}</div>\n\
         <div class=\"card\">\n<h1>{title}</h1>\n{body}</div>\n</main>\n</body>\n</html>\n",
        lang = lang.code(),
        title = escape(title),
    )
}

/// What went wrong with a form, shown above it: a sentence and maybe a list.
#[derive(Debug, Default)]
pub struct Problem {
    pub sentence: String,
    pub items: Vec<String>,
}

impl Problem {
    pub fn sentence(sentence: &str) -> Self {
        Self {
            sentence: sentence.to_owned(),
            items: Vec::new(),
        }
    }
}

/// The alert box for `problem`.
pub fn alert(problem: &Problem) -> String {
    let mut out = format!(
        "<div class=\"alert\" role=\"alert\"><p>{}</p>",
        escape(&problem.sentence)
    );
    if !problem.items.is_empty() {
        out.push_str("<ul>");
        for item in &problem.items {
            let _ = write!(out, "<li>{}</li>", escape(item));
        }
        out.push_str("</ul>");
    }
    out.push_str("</div>\n");
    out
}

fn password_fields(t: &Texts, min_length: u32) -> String {
    let hint = escape(&t.password_hint.replace("{n}", &min_length.to_string()));
    format!(
        "<label for=\"new_password\">{new}</label>\n\
         <input id=\"new_password\" name=\"new_password\" type=\"password\" autocomplete=\"new-password\" \
         required minlength=\"{min_length}\" maxlength=\"{max}\" aria-describedby=\"password_hint\">\n\
         <p class=\"hint\" id=\"password_hint\">{hint}</p>\n\
         <label for=\"confirmation\">{confirm}</label>\n\
         <input id=\"confirmation\" name=\"confirmation\" type=\"password\" autocomplete=\"new-password\" \
         required maxlength=\"{max}\">\n",
        new = escape(t.new_password),
        confirm = escape(t.confirmation),
        max = crate::credentials::policy::MAX_LENGTH,
    )
}

/// The form of `/reset/{token}`. It posts back to the page's own address.
pub fn reset_form(lang: Language, login: &str, min_length: u32, problem: Option<&Problem>) -> String {
    let t = text::texts(lang);
    let mut body = format!("<p>{}</p>\n", t.reset_intro.replace("{login}", &escape(login)));
    body.push_str(&problem.map(alert).unwrap_or_default());
    let _ = write!(
        body,
        "<form method=\"post\">\n<input type=\"hidden\" name=\"lang\" value=\"{lang}\">\n\
         <input type=\"text\" name=\"username\" value=\"{login}\" autocomplete=\"username\" hidden>\n\
         {fields}<button type=\"submit\">{save}</button>\n</form>\n",
        lang = lang.code(),
        login = escape(login),
        fields = password_fields(t, min_length),
        save = escape(t.save),
    );
    layout(lang, t.reset_title, &body, true)
}

/// The form of `/activate`, with the login typed so far (never the code).
pub fn activate_form(lang: Language, login: &str, problem: Option<&Problem>) -> String {
    let t = text::texts(lang);
    let mut body = format!("<p>{}</p>\n", escape(t.activate_intro));
    body.push_str(&problem.map(alert).unwrap_or_default());
    let _ = write!(
        body,
        "<form method=\"post\">\n<input type=\"hidden\" name=\"lang\" value=\"{lang}\">\n\
         <label for=\"login\">{login_label}</label>\n\
         <input id=\"login\" name=\"login\" type=\"text\" value=\"{login}\" autocomplete=\"username\" \
         autocapitalize=\"none\" autocorrect=\"off\" spellcheck=\"false\" required maxlength=\"64\">\n\
         <label for=\"activation_code\">{code_label}</label>\n\
         <input id=\"activation_code\" name=\"activation_code\" type=\"text\" autocomplete=\"one-time-code\" \
         autocapitalize=\"characters\" autocorrect=\"off\" spellcheck=\"false\" required maxlength=\"32\" \
         aria-describedby=\"code_hint\">\n<p class=\"hint\" id=\"code_hint\">{code_hint}</p>\n\
         {fields}<button type=\"submit\">{submit}</button>\n</form>\n",
        lang = lang.code(),
        login_label = escape(t.login),
        login = escape(login),
        code_label = escape(t.code),
        code_hint = escape(t.code_hint),
        // The school, and so its minimum, is not known before the login is typed.
        fields = password_fields(t, 8),
        submit = escape(t.activate),
    );
    body.push_str("<script src=\"/activate.js\"></script>\n");
    layout(lang, t.activate_title, &body, true)
}

/// A page that ends the flow: a success, or an error the form cannot fix.
/// `paragraph` is already HTML; `link` is an address and its label.
pub fn outcome(
    lang: Language,
    title: &str,
    paragraph: &str,
    success: bool,
    link: Option<(&str, &str)>,
) -> String {
    let class = if success { "alert ok" } else { "alert" };
    let mut body = format!("<div class=\"{class}\" role=\"status\"><p>{paragraph}</p></div>\n");
    if let Some((href, label)) = link {
        let _ = writeln!(
            body,
            "<a class=\"button\" href=\"{}\">{}</a>",
            escape(href),
            escape(label)
        );
    }
    layout(lang, title, &body, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_from_outside_is_escaped() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        let page = activate_form(Language::En, "\"><script>alert(1)</script>", None);
        assert!(!page.contains("<script>"));
        assert!(page.contains("value=\"&quot;&gt;&lt;script&gt;"));
    }
}
