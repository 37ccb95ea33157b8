use minijinja::{Environment, Error, ErrorKind, Value, context};
use preflight_core::Message;

/// A chat template from a GGUF file, rendered with minijinja. llama.cpp's own template helper
/// pattern-matches known templates and silently dropped SmolLM2's default system prompt, so the
/// template is executed as the Jinja it is.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos: String,
    eos: String,
}

fn raise_exception(msg: String) -> Result<String, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, msg))
}

impl ChatTemplate {
    /// Compiles `source`; `bos` / `eos` are the model's special-token texts the template may use.
    pub fn new(source: &str, bos: &str, eos: &str) -> Result<ChatTemplate, Error> {
        let mut env = Environment::new();
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        // Some templates stamp the date; a fixed one keeps prompts (and cache keys) reproducible.
        env.add_function("strftime_now", |_fmt: String| "01 Jan 2025".to_string());
        env.add_template_owned("chat", source.to_string())?;
        Ok(ChatTemplate { env, bos: bos.to_string(), eos: eos.to_string() })
    }

    /// Renders the conversation with the generation prompt appended.
    pub fn render(&self, messages: &[Message]) -> Result<String, Error> {
        let msgs: Vec<Value> = messages
            .iter()
            .map(|m| {
                let role = m.role.as_str();
                context! { role => role, content => m.content.as_str() }
            })
            .collect();
        self.env.get_template("chat")?.render(context! {
            messages => msgs,
            add_generation_prompt => true,
            bos_token => self.bos.as_str(),
            eos_token => self.eos.as_str(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SmolLM2-135M-Instruct's template as stored in its GGUF.
    const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    #[test]
    fn default_system_prompt_is_kept() {
        let t = ChatTemplate::new(SMOLLM2, "<|im_start|>", "<|im_end|>").unwrap();
        let out = t.render(&[Message::user("Hi")]).unwrap();
        assert_eq!(
            out,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
        let out = t.render(&[Message::system("Be brief."), Message::user("Hi")]).unwrap();
        assert!(out.starts_with("<|im_start|>system\nBe brief.<|im_end|>\n") && !out.contains("SmolLM"), "{out}");
    }

    #[test]
    fn python_methods_and_exceptions_work() {
        let t = ChatTemplate::new(
            "{% if messages[0]['role'] == 'assistant' %}{{ raise_exception('must start with user') }}{% endif %}{{ bos_token }}{{ messages[0]['content'].strip() }}",
            "<s>",
            "</s>",
        )
        .unwrap();
        assert_eq!(t.render(&[Message::user("  hi  ")]).unwrap(), "<s>hi");
        let e = t.render(&[Message::assistant("x")]).unwrap_err();
        assert!(e.to_string().contains("must start with user"), "{e}");
    }
}
