// Development only: play a customer through the Meta simulator, to see the inbox come alive.
import { useState } from "react";
import { devApi } from "../api/dev";
import { Dialog } from "./Dialog";

interface Props {
  numbers: { phone_number_id: string; display_phone_number: string }[];
  onSent: () => void;
}

function randomMoroccanMobile(): string {
  const digits = Array.from({ length: 8 }, () => Math.floor(Math.random() * 10)).join("");
  return `2126${digits}`;
}

export function SimulateControl({ numbers, onSent }: Props) {
  const [open, setOpen] = useState(false);
  const [numberId, setNumberId] = useState(numbers[0]?.phone_number_id ?? "");
  const [waId, setWaId] = useState(randomMoroccanMobile);
  const [name, setName] = useState("Client test");
  const [text, setText] = useState("Salam, wach had l'produit mazal kayn?");
  const [status, setStatus] = useState<string | null>(null);
  const send = async () => {
    const number = numbers.find((n) => n.phone_number_id === numberId);
    if (!number) return;
    setStatus(null);
    try {
      await devApi.simulate({ ...number, wa_id: waId.replace(/\D/g, ""), name, text });
      setStatus("Sent: it arrives in a moment.");
      onSent();
    } catch (caught) {
      setStatus(caught instanceof Error ? caught.message : String(caught));
    }
  };
  return (
    <>
      <button type="button" className="small secondary" onClick={() => setOpen(true)}>
        Simulate a customer message
      </button>
      {open && (
        <Dialog title="Simulate a customer message (development)" onClose={() => setOpen(false)} testId="simulate-dialog">
          <form
            className="stack"
            onSubmit={(e) => {
              e.preventDefault();
              void send();
            }}
          >
            <label className="field">
              To business number
              <select value={numberId} onChange={(e) => setNumberId(e.target.value)}>
                {numbers.map((n) => (
                  <option key={n.phone_number_id} value={n.phone_number_id}>
                    +{n.display_phone_number}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              Customer's WhatsApp number
              <input value={waId} onChange={(e) => setWaId(e.target.value)} dir="ltr" />
            </label>
            <label className="field">
              Customer's profile name
              <input value={name} onChange={(e) => setName(e.target.value)} dir="auto" />
            </label>
            <label className="field">
              Message
              <textarea value={text} onChange={(e) => setText(e.target.value)} dir="auto" rows={3} />
            </label>
            <div className="row">
              <button type="submit" disabled={!text.trim()}>
                Send as the customer
              </button>
              <button type="button" className="secondary" onClick={() => setWaId(randomMoroccanMobile())}>
                Another customer
              </button>
            </div>
            {status && <p role="status">{status}</p>}
          </form>
        </Dialog>
      )}
    </>
  );
}
