"""Server-rendered HR staff pages, one module per sub-domain; routes in pages/urls.py."""
