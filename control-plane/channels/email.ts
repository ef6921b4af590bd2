import { createTransport } from 'nodemailer';
import { alertFacts, type AlertMessage } from './alert-message.ts';

export interface SmtpSettings {
  host: string;
  port?: number | undefined;
  secure?: boolean | undefined;
  requireTls?: boolean | undefined;
  user?: string | undefined;
  password?: string | undefined;
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Subject, plain text and a plain HTML alternative (no images, no remote content). */
export function emailContent(message: AlertMessage): EmailContent {
  const tag = message.status === 'resolved' ? 'RESOLVED' : message.severity.toUpperCase();
  const facts = alertFacts(message);
  const links = [
    message.run?.url === undefined ? undefined : { label: 'The run', url: message.run.url },
    message.monitor?.url === undefined ? undefined : { label: 'The monitor', url: message.monitor.url },
  ].filter((link) => link !== undefined);
  const text = [message.title, '', message.message, '', ...facts.map((fact) => `${fact.label}: ${fact.value}`), '', ...links.map((link) => `${link.label}: ${link.url}`), '', `alert #${message.id} · ${message.kind} · ${message.createdAt}`].join('\n');
  const html = [
    `<h2>${escapeHtml(message.title)}</h2>`,
    `<p>${escapeHtml(message.message)}</p>`,
    `<table>${facts.map((fact) => `<tr><th align="left">${escapeHtml(fact.label)}</th><td>${escapeHtml(fact.value)}</td></tr>`).join('')}</table>`,
    links.length === 0 ? '' : `<p>${links.map((link) => `<a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a>`).join(' · ')}</p>`,
    `<p><small>alert #${message.id} · ${escapeHtml(message.kind)} · ${escapeHtml(message.createdAt)}</small></p>`,
  ].join('\n');
  return { subject: `[${tag}] ${message.title}`.replace(/[\r\n]+/g, ' ').slice(0, 250), text, html };
}

/** Send one alert over SMTP (nodemailer); rejects with the server's answer when it refuses. */
export async function sendEmail(message: AlertMessage, settings: { smtp: SmtpSettings; from: string; to: readonly string[] }, options: { timeoutMs: number }): Promise<void> {
  const { smtp } = settings;
  const transport = createTransport({
    host: smtp.host,
    port: smtp.port ?? (smtp.secure === true ? 465 : 587),
    secure: smtp.secure ?? false,
    requireTLS: smtp.requireTls ?? false,
    ...(smtp.user === undefined ? {} : { auth: { user: smtp.user, pass: smtp.password ?? '' } }),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  try {
    const content = emailContent(message);
    await transport.sendMail({
      from: settings.from,
      to: [...settings.to],
      subject: content.subject,
      text: content.text,
      html: content.html,
      headers: { 'X-Checkpoint-Event': message.kind, 'X-Checkpoint-Alert': String(message.id) },
    });
  } finally {
    transport.close();
  }
}
