/**
 * The benchmark's tables: per variant the median of its rounds and their range, ratios to the
 * bare route of the same round, and the targets with what was measured against them.
 */
import { cpus, totalmem, release } from 'node:os'
import { median, range } from './stats.ts'
import type { Sample } from './load.ts'
import type { Variant } from './variants.ts'
import type { LoginResult } from './login.ts'
import type { SamlLoginResult } from './saml-login.ts'
import type { CookieSize } from './cookie-sizes.ts'

export interface RunSettings { quick: boolean, rounds: number, seconds: number, warmup: number, connections: number, seed: number, logins: number }

export interface VariantResult {
  variant: Variant
  samples: Sample[]
  /** This variant's rps ÷ the bare route's rps, one per round. */
  ratios: number[]
}

export interface Summary {
  variant: Variant
  rps: number
  rpsRange: [number, number]
  ratio: number
  ratioRange: [number, number]
  p50: number
  p99: number
  cpuUs: number
  responseBytes: number
  cookieBytes: number
}

export function summarise (result: VariantResult): Summary {
  const { samples } = result
  const rps = samples.map(sample => sample.rps)
  return {
    variant: result.variant,
    rps: median(rps),
    rpsRange: range(rps),
    ratio: median(result.ratios),
    ratioRange: range(result.ratios),
    p50: median(samples.map(sample => sample.p50)),
    p99: median(samples.map(sample => sample.p99)),
    cpuUs: median(samples.map(sample => sample.cpuUs)),
    responseBytes: median(samples.map(sample => sample.responseBytes)),
    cookieBytes: median(samples.map(sample => sample.cookieBytes))
  }
}

export interface Target { what: string, goal: string, measured: string, met: boolean }

/** The targets against this run. */
export function targets (byId: Map<string, Summary>, login: LoginResult, cookies: CookieSize[], saml?: SamlLoginResult): Target[] {
  const list: Target[] = []
  const ratioTarget = (id: string, what: string, goal: number) => {
    const summary = byId.get(id)
    if (summary) list.push({ what, goal: `≥ ${goal.toFixed(2)}× bare`, measured: `${summary.ratio.toFixed(2)}×`, met: summary.ratio >= goal })
  }
  ratioTarget('protected', 'protected route (`requireUser()`), signed in', 0.85)
  ratioTarget('public-cookie', 'public route with the session cookie', 0.95)
  const protectedRoute = byId.get('protected')
  const express = byId.get('express-oidc')
  if (protectedRoute && express) {
    const times = protectedRoute.rps / express.rps
    list.push({ what: 'protected route vs Express + express-openid-connect', goal: '≥ 10×', measured: `${times.toFixed(1)}×`, met: times >= 10 })
  }
  list.push({ what: 'plugin CPU per login (login + callback)', goal: '≤ 2 ms', measured: `${(login.cpuUs / 1000).toFixed(2)} ms`, met: login.cpuUs <= 2000 })
  if (saml) list.push({ what: 'plugin CPU per SAML callback (parse, verify, map, session)', goal: '≤ 3 ms', measured: `${(saml.callbackCpuUs / 1000).toFixed(2)} ms`, met: saml.callbackCpuUs <= 3000 })
  const webhook = byId.get('webhook')
  if (webhook) list.push({ what: 'verified webhook events per second', goal: '≥ 5,000/s', measured: `${int(webhook.rps)}/s`, met: webhook.rps >= 5000 })
  const perSecond = (id: string, what: string, goal: number) => {
    const summary = byId.get(id)
    if (summary) list.push({ what, goal: `≥ ${int(goal)}/s`, measured: `${int(summary.rps)}/s`, met: summary.rps >= goal })
  }
  perSecond('scim-create', 'SCIM user creates per second (memory repository)', 1000)
  perSecond('scim-lookup', 'SCIM filtered lookups per second (memory repository)', 2000)
  const typical = cookies[0]
  if (typical) list.push({ what: 'typical session cookie (OpenID Connect profile)', goal: '≤ 1 KB', measured: `${typical.bytes} B`, met: typical.bytes <= 1024 })
  return list
}

const int = (value: number) => Math.round(value).toLocaleString('en')
const fixed = (value: number, digits = 2) => value.toFixed(digits)

/** The main table: one row per variant. */
export function variantTable (summaries: Summary[]): string {
  const rows = summaries.map(s => `| ${s.variant.label} | ${int(s.rps)} (${int(s.rpsRange[0])}–${int(s.rpsRange[1])}) | **${fixed(s.ratio)}** (${fixed(s.ratioRange[0])}–${fixed(s.ratioRange[1])}) | ${fixed(s.p50, 2)} / ${fixed(s.p99, 2)} | ${fixed(s.cpuUs, 1)} | ${int(s.responseBytes)} | ${s.cookieBytes ? int(s.cookieBytes) : '–'} |`)
  return ['| variant | req/s, median (range) | vs bare (range) | latency p50 / p99 ms | server CPU µs/req | response B | cookie header B |', '|---|---:|---:|---:|---:|---:|---:|', ...rows].join('\n')
}

/** The short table for the README: ratios and CPU only. */
export function summaryTable (summaries: Summary[]): string {
  const rows = summaries.map(s => `| ${s.variant.label} | ${int(s.rps)} | **${fixed(s.ratio)}** | ${fixed(s.cpuUs, 1)} |`)
  return ['| variant | req/s | vs bare | server CPU µs/req |', '|---|---:|---:|---:|', ...rows].join('\n')
}

export function targetTable (list: Target[]): string {
  return ['| target | goal | measured | |', '|---|---|---|---|', ...list.map(t => `| ${t.what} | ${t.goal} | ${t.measured} | ${t.met ? 'met' : '**missed**'} |`)].join('\n')
}

export function loginLine (login: LoginResult): string {
  return `${int(login.logins)} logins (login + callback, ${login.concurrency} at a time) against an in-process OpenID Provider stub: ` +
    `**${fixed(login.cpuUs / 1000)} ms** of server CPU per login, ${int(login.perSecond)} logins/s.`
}

export function samlLine (saml: SamlLoginResult): string {
  return `${int(saml.callbacks)} SAML callbacks (${saml.concurrency} at a time; responses signed by the development SAML IdP in the runner): ` +
    `**${fixed(saml.callbackCpuUs / 1000)} ms** of server CPU per callback (the POST to the ACS), ${fixed(saml.loginCpuUs / 1000)} ms per \`/auth/login\` (the AuthnRequest).`
}

export function cookieTable (cookies: CookieSize[]): string {
  return ['| session cookie | bytes (`name=value` as stored, of the 4,096 a browser keeps) |', '|---|---:|', ...cookies.map(c => `| ${c.what} | ${int(c.bytes)} |`)].join('\n')
}

export function machineLine (settings: RunSettings): string {
  const cpu = cpus()
  return `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}; ${settings.rounds} round${settings.rounds === 1 ? '' : 's'} of ${settings.seconds} s per variant ` +
    `after a ${settings.warmup} s warm-up, ${settings.connections} connections, order shuffled each round (seed ${settings.seed})${settings.quick ? ', quick mode' : ''}.`
}
