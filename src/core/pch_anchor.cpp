// Anchor translation unit for the shared precompiled header target `ctxext_pch`.
