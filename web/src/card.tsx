// Adaptive Cards in messages, rendered by the adaptivecards library (SPEC
// docs/rules.md §9). The library is loaded on first use, so chats without cards never
// download it.
import { useEffect, useRef, useState } from "preact/hooks";
import { call, enc, errorText } from "./api";

const hostConfig = {
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  spacing: { small: 4, default: 8, medium: 16, large: 20, extraLarge: 28, padding: 12 },
  separator: { lineThickness: 1, lineColor: "#d9dee7" },
  supportsInteractivity: true,
  containerStyles: {
    default: {
      backgroundColor: "#ffffff",
      foregroundColors: {
        default: { default: "#1f2933", subtle: "#5f6b7a" },
        accent: { default: "#3a5bd9", subtle: "#5f78e0" },
        good: { default: "#1e7f4f", subtle: "#2f9a63" },
        warning: { default: "#9a6700", subtle: "#b07d12" },
        attention: { default: "#b42318", subtle: "#c4412f" },
      },
    },
    emphasis: {
      backgroundColor: "#f3f5f9",
      foregroundColors: { default: { default: "#1f2933", subtle: "#5f6b7a" } },
    },
  },
  actions: { maxActions: 5, buttonSpacing: 8, showCard: { actionMode: "inline", inlineTopMargin: 8 }, actionsOrientation: "horizontal", actionAlignment: "left" },
};

/** CardAction is what a Submit or Execute sends: its kind, its data (with the card's inputs) and an Execute's verb. */
export interface CardAction {
  type: "Action.Submit" | "Action.Execute";
  data: unknown;
  verb?: string;
}

/**
 * AdaptiveCardView renders one card given as its JSON text. Its Submit and
 * Execute actions go to a chat message's cardActions (chatId, messageId), to
 * actionsPath (a channel message's), or to onAction (a card that belongs to
 * no message, such as a message extension's task card).
 */
export function AdaptiveCardView(props: {
  json: string;
  chatId?: string;
  messageId?: string;
  token?: string;
  actionsPath?: string;
  onAction?: (a: CardAction) => Promise<void>;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const onAction = useRef(props.onAction); // the newest, for a card rendered once
  onAction.current = props.onAction;

  useEffect(() => {
    let cancelled = false;
    setError(null);
    import("adaptivecards")
      .then((AC) => {
        if (cancelled || !ref.current) return;
        const card = new AC.AdaptiveCard();
        card.hostConfig = new AC.HostConfig(hostConfig);
        card.onExecuteAction = (action) => {
          if (action instanceof AC.OpenUrlAction) {
            const url = action.url ?? "";
            if (/^https?:\/\//i.test(url)) window.open(url, "_blank", "noopener,noreferrer");
            return;
          }
          // Submit and Execute go to the bot through Parley, which checks who
          // may act on the card (docs/rules.md §9); Execute may answer with a
          // new card, and the message is updated in place.
          const execute = action instanceof AC.ExecuteAction;
          if (!(action instanceof AC.SubmitAction) && !execute) return;
          const data = (action as InstanceType<typeof AC.SubmitAction>).data ?? {};
          const verb = execute ? ((action as InstanceType<typeof AC.ExecuteAction>).verb ?? "") : undefined;
          if (onAction.current) {
            setNote("Sending…");
            onAction.current({ type: execute ? "Action.Execute" : "Action.Submit", data, ...(verb ? { verb } : {}) }).then(
              () => setNote(null),
              (e) => setNote(errorText(e)),
            );
            return;
          }
          const path =
            props.actionsPath ?? (props.chatId && props.messageId ? `/parley/v1/chats/${enc(props.chatId)}/messages/${enc(props.messageId)}/cardActions` : "");
          if (!path) {
            setNote("This card can't be used here.");
            return;
          }
          setNote("Sending…");
          call<{ card: unknown }>("POST", path, {
            token: props.token,
            body: { type: execute ? "Action.Execute" : "Action.Submit", data, ...(verb ? { verb } : {}) },
          }).then(
            (r) => {
              setNote("Sent.");
              if (r?.card && ref.current) {
                const next = new AC.AdaptiveCard();
                next.hostConfig = card.hostConfig;
                next.onExecuteAction = card.onExecuteAction;
                next.parse(r.card);
                const el = next.render();
                if (el) ref.current.replaceChildren(el);
              }
            },
            (e) => setNote(errorText(e)),
          );
        };
        let parsed: unknown;
        try {
          parsed = JSON.parse(props.json);
        } catch {
          setError("This card could not be read.");
          return;
        }
        card.parse(parsed);
        const el = card.render();
        if (!el) {
          setError("This card could not be shown.");
          return;
        }
        ref.current.replaceChildren(el);
      })
      .catch(() => {
        if (!cancelled) setError("This card could not be shown.");
      });
    return () => {
      cancelled = true;
    };
  }, [props.json]);

  return (
    <div class="card-wrap">
      <div ref={ref} class="adaptive-card" />
      {error && <p class="muted">{error}</p>}
      {note && (
        <p class="muted small" role="status">
          {note}
        </p>
      )}
    </div>
  );
}
