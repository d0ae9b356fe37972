"""Knowledge base of the assistant: reviewed content files, turned into SQL and searched.

The knowledge base knows nothing of Rasa; actions use knowledge.store.KnowledgeBase.
"""
