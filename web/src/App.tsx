// The app: first-run setup, the pages before sign-in, and once signed in
// the chat client (/, /chats/{id}, /requests, /new, /settings) and the admin
// center (/admin/...).
import { setPageTitle, setUnreadCount } from "./title";
import { useEffect, useState } from "preact/hooks";
import { get, getToken, onUnauthenticated, setToken, signOut } from "./api";
import { PersonalApps } from "./apps/Apps";
import { ChatView, NoChat } from "./chat/ChatView";
import { NewChat } from "./chat/NewChat";
import { RequestView } from "./chat/RequestView";
import { Settings } from "./chat/Settings";
import { Sidebar } from "./chat/Sidebar";
import { AnonJoin, MeetingView, NewMeeting } from "./meetings/Meetings";
import { SearchBox, SearchPage } from "./search/Search";
import { ChannelView, NewTeam, TeamManage, TeamsHome } from "./teams/Teams";
import { JoinPage, SetupPage, SignInPage, SignUpPage } from "./pages/account";
import { match, navigate, usePath } from "./router";
import { type State, session, unreadTotal, useSession } from "./session";
import { ErrorBox, Link, Notice } from "./ui";

export function App() {
  const path = usePath();
  const [setupNeeded, setSetupNeeded] = useState<boolean | null>(null);
  const [auth, setAuth] = useState(() => (getToken() ? 1 : 0));

  useEffect(() => {
    get<{ setupNeeded: boolean }>("/parley/v1/setup")
      .then((r) => setSetupNeeded(r.setupNeeded))
      .catch(() => setSetupNeeded(false));
    onUnauthenticated(() => {
      session.stop();
      setToken(null);
      setAuth(0);
      const here = location.pathname + location.search;
      if (location.pathname === "/signin") return; // already there: keep its ?next=
      navigate(here === "/" ? "/signin" : `/signin?next=${encodeURIComponent(here)}`, true);
    });
  }, []);

  const signedIn = () => setAuth((n) => n + 1);

  if (setupNeeded === null) return <Splash />;
  if (setupNeeded && path !== "/setup") return <Redirect to="/setup" />;
  if (path === "/setup") {
    if (!setupNeeded) {
      return (
        <main class="auth-page">
          <div class="auth-card">
            <h1>Parley is set up</h1>
            <p class="muted">An organisation exists already.</p>
            <Link href="/signin">Sign in</Link>
          </div>
        </main>
      );
    }
    return (
      <SetupPage
        onDone={() => {
          setSetupNeeded(false);
          signedIn();
        }}
      />
    );
  }
  if (path === "/signin") return <SignInPage onSignedIn={signedIn} />;
  if (path === "/signup") return <SignUpPage onSignedIn={signedIn} />;
  const meet = match("/meet/:token", path);
  if (meet) return <AnonJoin token={meet.token} />;
  const join = match("/join/:token", path);
  if (join) {
    return (
      <JoinPage
        token={join.token}
        onSignedIn={() => {
          session.stop();
          signedIn();
        }}
      />
    );
  }
  if (!auth || !getToken()) return <Redirect to={path === "/" ? "/signin" : `/signin?next=${encodeURIComponent(path)}`} />;
  return (
    <Shell
      key={auth}
      path={path}
      onSignOut={async () => {
        await signOut();
        session.stop();
        setAuth(0);
        navigate("/signin", true);
      }}
    />
  );
}

type AdminModule = typeof import("./admin/Admin");
let adminModule: AdminModule | null = null;

/** Admin loads the admin center's code on first use: most people never open it. */
function Admin(props: { s: State; path: string }) {
  const [mod, setMod] = useState<AdminModule | null>(adminModule);
  const [err, setErr] = useState<unknown>(null);
  useEffect(() => {
    if (mod) return;
    import("./admin/Admin").then((m) => {
      adminModule = m;
      setMod(m);
    }, setErr);
  }, []);
  if (err) return <ErrorBox error="The admin center could not be loaded. Reload the page to try again." />;
  return mod ? <mod.Admin {...props} /> : <p class="empty muted">Loading…</p>;
}

function Redirect(props: { to: string }) {
  useEffect(() => navigate(props.to, true), [props.to]);
  return <Splash />;
}

function Splash() {
  return (
    <main class="splash" aria-busy="true">
      <span class="logo" aria-hidden="true">
        P
      </span>
      <span class="visually-hidden">Loading Parley…</span>
    </main>
  );
}

function Shell(props: { path: string; onSignOut: () => void }) {
  const s = useSession();
  const [startError, setStartError] = useState<string | null>(null);
  const { path } = props;

  useEffect(() => {
    session.start().catch((e) => setStartError(e instanceof Error ? e.message : String(e)));
    const visible = () => session.seen();
    document.addEventListener("visibilitychange", visible);
    return () => {
      document.removeEventListener("visibilitychange", visible);
      session.stop();
      setUnreadCount(0);
    };
  }, []);

  useEffect(() => setUnreadCount(unreadTotal(s)));

  const chat = match("/chats/:id", path);
  const req = match("/requests/:id", path);
  const meeting = path === "/meetings/new" ? null : match("/meetings/:id", path);
  const channel = match("/teams/:team/channels/:channel", path);
  const manageTeam = match("/teams/:team/manage", path);
  const appPage = path === "/apps" ? { id: "" } : match("/apps/:id", path);
  const admin = path === "/admin" || path.startsWith("/admin/");
  const tab = path.startsWith("/requests") ? "requests" : path.startsWith("/teams") ? "teams" : "chats";
  let main;
  let hasMain = true;
  if (chat) main = <ChatView s={s} id={chat.id} />;
  else if (req) main = <RequestView s={s} id={req.id} />;
  else if (path === "/new") main = <NewChat s={s} />;
  else if (path === "/meetings/new") main = <NewMeeting />;
  else if (path === "/teams/new") main = <NewTeam />;
  else if (path === "/search") main = <SearchPage s={s} />;
  else if (channel) main = <ChannelView s={s} teamId={channel.team} channelId={channel.channel} />;
  else if (manageTeam) main = <TeamManage s={s} teamId={manageTeam.team} />;
  else if (path === "/teams") {
    main = <TeamsHome />;
    hasMain = false;
  }
  else if (meeting) main = <MeetingView s={s} id={meeting.id} />;
  else if (path === "/settings") main = <Settings s={s} onSignOut={props.onSignOut} />;
  else if (appPage) main = <PersonalApps me={s.me} appId={appPage.id || null} />;
  else if (path === "/requests") {
    main = <NoChat requests />;
    hasMain = false;
  } else if (path === "/" || admin) {
    main = <NoChat />;
    hasMain = false;
  } else {
    main = (
      <section class="main placeholder">
        <div class="empty">
          <p>There is no page at {path}.</p>
          <Link href="/">Go to your chats</Link>
        </div>
      </section>
    );
  }

  useEffect(() => {
    if (!chat && !req && path !== "/new" && path !== "/settings" && !admin && !appPage) {
      setPageTitle(tab === "requests" ? "Requests" : tab === "teams" ? "Teams" : "Chats");
    }
  }, [path]);

  return (
    <div class="app" data-view={hasMain ? "main" : "list"}>
      <header class="topbar">
        <Link href="/" class="brand-link" title="Your chats">
          <span class="logo" aria-hidden="true">
            P
          </span>
          <span class="brand">Parley</span>
          {admin && <span class="brand-sub">Admin</span>}
        </Link>
        {(s.conn === "reconnecting" || s.conn === "connecting") && s.me && (
          <span class={`conn ${s.conn}`} role="status" data-testid="conn-state">
            {s.conn === "reconnecting" ? "Reconnecting…" : "Connecting…"}
          </span>
        )}
        {!admin && <SearchBox />}
        <nav class="topnav" aria-label="Main">
          <Link href="/" aria-current={!admin && path !== "/settings" && !appPage ? "page" : undefined}>
            Chats
          </Link>
          {!admin && (
            <Link href="/apps" aria-current={appPage ? "page" : undefined}>
              My apps
            </Link>
          )}
          {s.me?.isAdmin && (
            <Link href="/admin" aria-current={admin ? "page" : undefined}>
              Admin
            </Link>
          )}
          <Link href="/settings" aria-current={path === "/settings" ? "page" : undefined}>
            Settings
          </Link>
          <button type="button" class="ghost small signout" onClick={props.onSignOut}>
            Sign out
          </button>
        </nav>
      </header>
      {startError && <Notice kind="warning">{startError}</Notice>}
      {s.loadError && <Notice kind="warning">Couldn't refresh: {s.loadError}</Notice>}
      {admin ? (
        <Admin s={s} path={path} />
      ) : (
        <div class="workspace">
          <Sidebar s={s} tab={tab} selected={chat?.id ?? req?.id ?? channel?.channel ?? null} />
          {main}
        </div>
      )}
    </div>
  );
}
