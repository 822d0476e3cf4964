//! Sending one e-mail: SMTP when configured, otherwise `.eml` files in a folder.
//!
//! lettre's SMTP transport has a connect timeout but none on reads and writes, so a stalled
//! server would hang the sender: every send is wrapped in a `tokio::time::timeout`. Errors are
//! sorted into permanent (the server refused this message: retrying will not help) and
//! retryable (anything else: connection refused, timeouts, 4xx, a pooled connection the server
//! closed).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Clone)]
pub struct MailerConfig {
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:465` (TLS). None: write files into `dir`.
    pub smtp_url: Option<String>,
    pub dir: PathBuf,
    /// The sender, e.g. `vpark <noreply@vpark.example>`.
    pub from: String,
    /// The longest one SMTP exchange may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for MailerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailerConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(platform::db::redact_url))
            .field("dir", &self.dir)
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    Retryable(String),
    Permanent(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent(_))
    }

    pub fn message(&self) -> &str {
        match self {
            SendError::Retryable(m) | SendError::Permanent(m) => m,
        }
    }
}

pub enum Mailer {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, timeout: Duration, from: Mailbox, describe: String },
    File { transport: AsyncFileTransport<Tokio1Executor>, from: Mailbox, dir: PathBuf },
}

impl Mailer {
    pub fn from_config(config: &MailerConfig) -> anyhow::Result<Mailer> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("mail.from {:?} is not a valid mailbox: {e}", config.from))?;
        match &config.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("mail.smtp_url is not usable: {e}"))?
                    .timeout(Some(config.timeout))
                    .build();
                Ok(Mailer::Smtp {
                    transport,
                    timeout: config.timeout,
                    from,
                    describe: format!("SMTP {}", platform::db::redact_url(url)),
                })
            }
            None => {
                std::fs::create_dir_all(&config.dir)
                    .map_err(|e| anyhow::anyhow!("cannot create the mail folder {}: {e}", config.dir.display()))?;
                Ok(Mailer::File { transport: AsyncFileTransport::new(&config.dir), from, dir: config.dir.clone() })
            }
        }
    }

    pub fn from_mailbox(&self) -> &Mailbox {
        match self {
            Mailer::Smtp { from, .. } | Mailer::File { from, .. } => from,
        }
    }

    /// Where mail goes, without secrets.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { describe, .. } => describe.clone(),
            Mailer::File { dir, .. } => format!("files in {}", dir.display()),
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Mailer::Smtp { transport, timeout, .. } => {
                match tokio::time::timeout(*timeout, transport.send(message)).await {
                    Err(_) => Err(SendError::Retryable(format!("SMTP exchange timed out after {timeout:?}"))),
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                    Ok(Err(e)) => Err(SendError::Retryable(e.to_string())),
                }
            }
            Mailer::File { transport, .. } => {
                transport.send(message).await.map(|_| ()).map_err(|e| SendError::Retryable(e.to_string()))
            }
        }
    }
}

/// Builds a multipart (text + HTML) message.
pub fn build_message(
    from: &Mailbox,
    to_email: &str,
    to_name: &str,
    message_id: &str,
    subject: &str,
    text: String,
    html: String,
) -> Result<Message, SendError> {
    let to: Mailbox = format!("{} <{}>", quote_name(to_name), to_email)
        .parse()
        .or_else(|_| to_email.parse())
        .map_err(|e| SendError::Permanent(format!("recipient {to_email:?} is not a valid address: {e}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(message_id.to_owned()))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
}

fn quote_name(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !matches!(c, '"' | '\\' | '<' | '>') && !c.is_control()).collect();
    format!("\"{clean}\"")
}
