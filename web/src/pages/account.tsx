// The pages before sign-in: sign in (with the demo accounts under --demo),
// personal sign-up with the 6-digit code, the invitation page /join/{token},
// and the first-run setup.
import { setPageTitle } from "../title";
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type User, errorText, get, post, signIn } from "../api";
import { navigate } from "../router";
import { AuthCard, ErrorBox, Field, Link, Notice, useAsync } from "../ui";

function Frame(props: { title: string; subtitle?: string; children: ComponentChildren; wide?: boolean }) {
  useEffect(() => {
    setPageTitle(props.title);
  }, [props.title]);
  return (
    <AuthCard title={props.title} wide={props.wide}>
      {props.subtitle && <p class="muted">{props.subtitle}</p>}
      {props.children}
    </AuthCard>
  );
}

interface DemoAccount {
  description: string;
  username: string;
  password: string;
}

function nextTarget(): string {
  const n = new URLSearchParams(location.search).get("next");
  return n && n.startsWith("/") && !n.startsWith("//") ? n : "/";
}

export function SignInPage(props: { onSignedIn: () => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [demo, setDemo] = useState<DemoAccount[]>([]);
  const { busy, error, run } = useAsync();
  const submitRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    get<{ value: DemoAccount[] }>("/parley/v1/demo")
      .then((d) => setDemo(d.value ?? []))
      .catch(() => setDemo([]));
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    const ok = await run(async () => {
      await signIn(username.trim(), password);
      return true;
    });
    if (ok) {
      props.onSignedIn();
      navigate(nextTarget(), true);
    }
  }

  return (
    <Frame title="Sign in" subtitle="Chat with your team and with people outside it.">
      <form onSubmit={submit} class="stack" noValidate>
        <Field
          id="signin-username"
          label="Email or phone number"
          type="text"
          autoComplete="username"
          inputMode="email"
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
          required
          autoFocus
        />
        <Field
          id="signin-password"
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          required
        />
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy || !username || !password} ref={submitRef}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p class="muted center">
        No account? <Link href="/signup">Create a personal account</Link>
      </p>
      {demo.length > 0 && (
        <section class="demo" aria-labelledby="demo-title">
          <h2 id="demo-title">Demo accounts</h2>
          <p class="hint">This server runs with sample data. Pick an account to fill in the form.</p>
          <ul class="demo-list">
            {demo.map((d) => (
              <li key={d.username}>
                <button
                  type="button"
                  class="demo-account"
                  onClick={() => {
                    setUsername(d.username);
                    setPassword(d.password);
                    setTimeout(() => submitRef.current?.focus(), 0);
                  }}
                >
                  <span class="demo-name">{d.description}</span>
                  <span class="muted small">{d.username}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </Frame>
  );
}

export function SignUpPage(props: { onSignedIn: () => void }) {
  const [by, setBy] = useState<"email" | "phone">("email");
  const [address, setAddress] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [step, setStep] = useState<"details" | "code">("details");
  const [code, setCode] = useState("");
  const [status, setStatus] = useState("");
  const { busy, error, setError, run } = useAsync();

  const addr = () => (by === "email" ? { email: address.trim() } : { phoneNumber: address.trim() });

  async function start(e: Event) {
    e.preventDefault();
    if (password.length < 8) {
      setError("Choose a password of at least 8 characters.");
      return;
    }
    const r = await run(() => post<{ status?: string }>("/parley/v1/signup", { ...addr(), displayName: displayName.trim(), password }));
    if (r !== undefined) {
      setStatus(r?.status ?? "A code is on its way. Enter it to finish.");
      setStep("code");
    }
  }

  async function verify(e: Event) {
    e.preventDefault();
    const ok = await run(async () => {
      // Sign in with the address as the server stored it (a phone number
      // typed as "(415) 555-0100" is kept as +14155550100).
      const u = await post<User>("/parley/v1/signup/verify", { ...addr(), code: code.trim() });
      await signIn(u?.userPrincipalName || address.trim(), password);
      return true;
    });
    if (ok) {
      props.onSignedIn();
      navigate("/", true);
    }
  }

  if (step === "code") {
    return (
      <Frame title="Enter your code" subtitle={`We sent a 6-digit code to ${address.trim()}.`}>
        <form onSubmit={verify} class="stack" noValidate>
          {status && <Notice>{status}</Notice>}
          <Field
            id="signup-code"
            label="6-digit code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6}"
            maxLength={6}
            value={code}
            onInput={(e) => setCode(e.currentTarget.value.replace(/\D/g, ""))}
            autoFocus
            required
          />
          <ErrorBox error={error} />
          <button type="submit" class="primary" disabled={busy || code.length !== 6}>
            {busy ? "Checking…" : "Create account"}
          </button>
          <button type="button" class="link-button" onClick={() => setStep("details")}>
            Use a different address
          </button>
        </form>
      </Frame>
    );
  }

  return (
    <Frame title="Create a personal account" subtitle="For chatting with people and organisations on Parley.">
      <form onSubmit={start} class="stack" noValidate>
        <fieldset class="segmented">
          <legend>Sign up with</legend>
          <label>
            <input type="radio" name="by" checked={by === "email"} onChange={() => setBy("email")} /> Email
          </label>
          <label>
            <input type="radio" name="by" checked={by === "phone"} onChange={() => setBy("phone")} /> Phone
          </label>
        </fieldset>
        <Field
          id="signup-address"
          label={by === "email" ? "Email address" : "Phone number"}
          type={by === "email" ? "email" : "tel"}
          autoComplete={by === "email" ? "email" : "tel"}
          value={address}
          onInput={(e) => setAddress(e.currentTarget.value)}
          hint={by === "phone" ? "With the country code, for example +1 415 555 0100." : undefined}
          required
        />
        <Field
          id="signup-name"
          label="Your name"
          autoComplete="name"
          value={displayName}
          onInput={(e) => setDisplayName(e.currentTarget.value)}
          required
        />
        <Field
          id="signup-password"
          label="Password"
          type="password"
          autoComplete="new-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          hint="At least 8 characters."
          required
        />
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy || !address || !displayName || !password}>
          {busy ? "Sending code…" : "Send me a code"}
        </button>
      </form>
      <p class="muted center">
        Have an account? <Link href="/signin">Sign in</Link>
      </p>
    </Frame>
  );
}

interface Invitation {
  address: string;
  invitedBy: { displayName: string; mail: string | null };
  expiresDateTime: string | null;
}

export function JoinPage(props: { token: string; onSignedIn: () => void }) {
  const [inv, setInv] = useState<Invitation | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, setError, run } = useAsync();

  useEffect(() => {
    get<Invitation>(`/parley/v1/invitations/${encodeURIComponent(props.token)}`)
      .then(setInv)
      .catch((e) => setLoadError(errorText(e)));
  }, [props.token]);

  async function submit(e: Event) {
    e.preventDefault();
    if (!inv) return;
    if (password.length < 8) {
      setError("Choose a password of at least 8 characters.");
      return;
    }
    const ok = await run(async () => {
      const u = await post<User>(`/parley/v1/invitations/${encodeURIComponent(props.token)}/redeem`, {
        displayName: displayName.trim(),
        password,
      });
      await signIn(u?.userPrincipalName || inv.address, password);
      return true;
    });
    if (ok) {
      props.onSignedIn();
      navigate("/requests", true);
    }
  }

  if (loadError) {
    return (
      <Frame title="This invitation can't be used">
        <ErrorBox error={loadError} />
        <p class="muted">Invitations work once and expire after 14 days. Ask the person who invited you to send a new one.</p>
        <p>
          <Link href="/signin">Sign in</Link> · <Link href="/signup">Create a personal account</Link>
        </p>
      </Frame>
    );
  }
  if (!inv) {
    return (
      <Frame title="Opening your invitation…">
        <p class="muted">One moment.</p>
      </Frame>
    );
  }
  const by = inv.invitedBy;
  return (
    <Frame title="You're invited to chat">
      <p class="invite-who">
        <strong>{by.displayName}</strong>
        {by.mail && <span class="muted"> ({by.mail})</span>} wants to chat with you on Parley.
      </p>
      <p class="muted">
        Create a personal account for <strong>{inv.address}</strong>. Their message waits for you as a request: you decide whether to accept it.
      </p>
      <form onSubmit={submit} class="stack" noValidate>
        <Field id="join-address" label="Your address" value={inv.address} readOnly />
        <Field
          id="join-name"
          label="Your name"
          autoComplete="name"
          value={displayName}
          onInput={(e) => setDisplayName(e.currentTarget.value)}
          required
          autoFocus
        />
        <Field
          id="join-password"
          label="Choose a password"
          type="password"
          autoComplete="new-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          hint="At least 8 characters."
          required
        />
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy || !displayName || !password}>
          {busy ? "Creating your account…" : "Create account and continue"}
        </button>
      </form>
    </Frame>
  );
}

export function SetupPage(props: { onDone: () => void }) {
  const [f, setF] = useState({ token: "", org: "", domain: "", name: "", email: "", password: "" });
  const { busy, error, setError, run } = useAsync();
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value });

  async function submit(e: Event) {
    e.preventDefault();
    if (f.password.length < 8) {
      setError("Choose an admin password of at least 8 characters.");
      return;
    }
    const ok = await run(async () => {
      await post("/parley/v1/setup", {
        token: f.token.trim(),
        displayName: f.org.trim(),
        domains: [f.domain.trim().toLowerCase()],
        admin: { displayName: f.name.trim() || f.email.trim(), userPrincipalName: f.email.trim(), password: f.password },
      });
      await signIn(f.email.trim(), f.password);
      return true;
    });
    if (ok) {
      props.onDone();
      navigate("/admin", true);
    }
  }

  return (
    <Frame title="Set up Parley" subtitle="Create your organisation and its first admin." wide>
      <form onSubmit={submit} class="stack" noValidate>
        <Field
          id="setup-token"
          label="Setup token"
          hint="The one-time token the server printed when it started."
          autoComplete="off"
          spellcheck={false}
          value={f.token}
          onInput={set("token")}
          required
          autoFocus
        />
        <div class="grid-2">
          <Field id="setup-org" label="Organisation name" placeholder="Contoso" value={f.org} onInput={set("org")} required />
          <Field
            id="setup-domain"
            label="Email domain"
            placeholder="contoso.com"
            hint="Addresses in this domain belong to your organisation."
            value={f.domain}
            onInput={set("domain")}
            required
          />
        </div>
        <h2 class="section-title">First admin</h2>
        <div class="grid-2">
          <Field id="setup-admin-name" label="Admin name" autoComplete="name" value={f.name} onInput={set("name")} />
          <Field
            id="setup-admin-email"
            label="Admin email"
            type="email"
            autoComplete="username"
            placeholder={f.domain ? `you@${f.domain}` : "you@contoso.com"}
            value={f.email}
            onInput={set("email")}
            required
          />
        </div>
        <Field
          id="setup-admin-password"
          label="Admin password"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters."
          value={f.password}
          onInput={set("password")}
          required
        />
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy || !f.token || !f.org || !f.domain || !f.email || !f.password}>
          {busy ? "Creating…" : "Create organisation"}
        </button>
      </form>
    </Frame>
  );
}
