"""Who must be told what (notices): completion facts, reminder rules, operator broadcasts and
opt-outs. The backend decides who and when; the assistant's scheduler delivers, over HTTP."""
