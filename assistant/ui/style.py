"""The window's style sheet: quiet colours, readable bubbles."""

STYLE = """
#conversationPanel { background: #f3f4f6; }
#conversationList { border: none; background: transparent; font-size: 13px; }
#conversationList::item { padding: 6px 8px; border-radius: 6px; }
#conversationList::item:selected { background: #dbe4f3; color: #111827; }
#newChatButton { padding: 6px; font-weight: 600; }
#chatInner { background: #ffffff; }
#emptyHint { color: #6b7280; font-size: 15px; padding: 40px; }
#userBubble { background: #e8f0fe; border-radius: 10px; }
#answerBubble { background: #f5f5f4; border-radius: 10px; }
#answerBubble[status="stopped"] { border-left: 3px solid #d97706; }
#answerBubble[status="error"] { border-left: 3px solid #dc2626; }
#bubbleWho { color: #6b7280; font-size: 11px; font-weight: 600; }
#bubbleBody { font-size: 14px; color: #111827; }
#bubbleNotes { color: #92400e; font-size: 12px; font-style: italic; }
#bubbleMeta { color: #6b7280; font-size: 11px; }
#problemBanner { background: #fef3c7; border: 1px solid #f59e0b; border-radius: 6px; }
#problemText { color: #78350f; }
#promptEdit { font-size: 14px; border: 1px solid #d1d5db; border-radius: 6px; padding: 4px; }
#sendButton { font-weight: 600; min-width: 72px; }
#stopButton { min-width: 72px; }
#offlineLabel { color: #047857; font-weight: 600; padding: 0 8px; }
"""
