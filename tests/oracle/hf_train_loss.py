"""Oracle: HF LlamaForCausalLM's loss on a batch.

usage: hf_train_loss.py MODEL_DIR BATCH_JSON
BATCH_JSON: {"input_ids": [[...]], "labels": [[...]]} with labels aligned to the inputs and -100
where no loss is taken (HF shifts them itself). Prints {"loss": mean NLL over supervised targets}.
"""
import json
import sys

import torch
from transformers import LlamaForCausalLM


def main() -> None:
    model_dir, batch_file = sys.argv[1], sys.argv[2]
    with open(batch_file) as f:
        batch = json.load(f)
    model = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32, attn_implementation="eager")
    model.eval()
    input_ids = torch.tensor(batch["input_ids"], dtype=torch.long)
    labels = torch.tensor(batch["labels"], dtype=torch.long)
    with torch.no_grad():
        loss = model(input_ids=input_ids, labels=labels).loss
    print(json.dumps({"loss": loss.item()}))


if __name__ == "__main__":
    main()
