"""superposition"""
