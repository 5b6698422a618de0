// Confirm asks before something that cannot be undone (deleting a channel,
// removing someone, ending a meeting, renewing a join link): it says what
// will happen, puts the focus on the confirming button, and Cancel (or
// Escape) leaves everything as it was.
import { useEffect, useId, useRef } from "preact/hooks";

export function Confirm(props: {
  title: string;
  text: string;
  action: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLButtonElement>(null);
  const id = useId();
  useEffect(() => ref.current?.focus(), []);
  return (
    <div
      class="panel confirm"
      role="alertdialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-text`}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          props.onCancel();
        }
      }}
    >
      <h3 id={`${id}-title`} class="section-title">
        {props.title}
      </h3>
      <p id={`${id}-text`}>{props.text}</p>
      <div class="row">
        <button type="button" ref={ref} class={props.danger ? "danger" : "primary"} disabled={props.busy} onClick={props.onConfirm}>
          {props.action}
        </button>
        <button type="button" class="secondary" disabled={props.busy} onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
