//! Sentence embeddings as sentence-transformers computes them for all-MiniLM-L6-v2: BERT
//! (candle's implementation) over at most 256 word pieces, mean pooling over the real tokens,
//! L2 normalisation. 384 numbers per text; the dot product of two is their cosine similarity.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

/// Word pieces per text (the model was trained on 256).
pub const MAX_TOKENS: usize = 256;
/// Numbers per embedding.
pub const DIM: usize = 384;
/// Texts per forward pass, at most (larger passes were slower per text on 2 cores).
const PASS: usize = 16;

/// Why the encoder could not load or run.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("{path}: {message}")]
    Load { path: String, message: String },
    #[error("embedding failed: {0}")]
    Run(String),
}

fn run<E: std::fmt::Display>(e: E) -> EncodeError {
    EncodeError::Run(e.to_string())
}

/// The model and its tokenizer, on the CPU.
pub struct Encoder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl Encoder {
    /// Loads `model.safetensors`, `tokenizer.json` and `config.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Encoder, EncodeError> {
        let load = |file: &str, e: &dyn std::fmt::Display| EncodeError::Load {
            path: dir.join(file).display().to_string(),
            message: e.to_string(),
        };
        let config: Config = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| load("config.json", &e))
            .and_then(|t| serde_json::from_str(&t).map_err(|e| load("config.json", &e)))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| load("tokenizer.json", &e))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| load("tokenizer.json", &e))?;
        // No padding here: `embed` pads each pass itself, to that pass's longest text.
        tokenizer.with_padding(None);
        let device = Device::Cpu;
        let weights = dir.join("model.safetensors");
        // Memory-mapped: the 90 MB of weights are paged in, not copied. The file is the one
        // `fetch` verified; nothing else writes it while we run.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &device) }
            .map_err(|e| load("model.safetensors", &e))?;
        let model = BertModel::load(vb, &config).map_err(|e| load("model.safetensors", &e))?;
        Ok(Encoder { model, tokenizer, device })
    }

    /// One unit-length embedding per text, in order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncodeError> {
        let enc = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(run)?;
        // Sorted by length and embedded in passes of similar lengths: a judge's batch mixes a
        // 256-piece answer with its 15-piece sentences, and padding every sentence to the
        // answer's length made most of the work padding.
        let len = |i: usize| enc[i].get_ids().len();
        let mut order: Vec<usize> = (0..enc.len()).collect();
        order.sort_by_key(|&i| len(i));
        let mut out = vec![Vec::new(); enc.len()];
        let mut start = 0;
        while start < order.len() {
            // A pass holds texts at most a quarter longer (and 4 pieces) than its shortest.
            let limit = len(order[start]) * 5 / 4 + 4;
            let mut end = start + 1;
            while end < order.len() && end - start < PASS && len(order[end]) <= limit {
                end += 1;
            }
            let pass = &order[start..end];
            let batch: Vec<&Encoding> = pass.iter().map(|&i| &enc[i]).collect();
            for (&i, v) in pass.iter().zip(self.forward(&batch)?) {
                out[i] = v;
            }
            start = end;
        }
        Ok(out)
    }

    /// One forward pass: the encodings padded to the longest (pad id 0, masked out).
    fn forward(&self, enc: &[&Encoding]) -> Result<Vec<Vec<f32>>, EncodeError> {
        let rows = enc.len();
        let len = enc.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
        let flat = |f: &dyn Fn(&Encoding) -> &[u32]| -> Vec<u32> {
            let mut v = Vec::with_capacity(rows * len);
            for e in enc {
                let part = f(e);
                v.extend_from_slice(part);
                v.resize(v.len() + len - part.len(), 0);
            }
            v
        };
        let ids = Tensor::from_vec(flat(&|e| e.get_ids()), (rows, len), &self.device).map_err(run)?;
        let types = Tensor::from_vec(flat(&|e| e.get_type_ids()), (rows, len), &self.device).map_err(run)?;
        let mask = Tensor::from_vec(flat(&|e| e.get_attention_mask()), (rows, len), &self.device).map_err(run)?;
        let hidden = self.model.forward(&ids, &types, Some(&mask)).map_err(run)?;
        // Mean over the real tokens (padding masked out), then unit length.
        let m = mask.to_dtype(DType::F32).map_err(run)?.unsqueeze(2).map_err(run)?;
        let summed = hidden.broadcast_mul(&m).map_err(run)?.sum(1).map_err(run)?;
        let counts = m.sum(1).map_err(run)?.clamp(1e-9, f64::MAX).map_err(run)?;
        let mean = summed.broadcast_div(&counts).map_err(run)?;
        let norm = mean.sqr().map_err(run)?.sum_keepdim(1).map_err(run)?.sqrt().map_err(run)?;
        let unit = mean.broadcast_div(&norm.clamp(1e-12, f64::MAX).map_err(run)?).map_err(run)?;
        unit.to_vec2::<f32>().map_err(run)
    }
}

/// Cosine similarity of two unit-length embeddings.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
