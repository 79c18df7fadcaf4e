"""Direct-save: AST-based edits of HTML, JSX and TSX project files without a model call."""
