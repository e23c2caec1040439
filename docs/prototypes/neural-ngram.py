# Neural n-gram (Bengio-style MLP over embeddings of the K previous calls) on ADFA-LD, under both protocols
# of src/eval/adfa-ld-protocols.ts. A prototype for docs/models.md (issue 16), not part of gpo. Needs numpy.
#   K=10 P=published|agreed|both python3 docs/prototypes/neural-ngram.py [ADFA-LD folder]
import numpy as np, os, sys, glob, re, time
D=sys.argv[1] if len(sys.argv)>1 else os.path.join(os.path.dirname(__file__),'../../../shared/datasets/adfa-ld')
def read(p): return [int(x) for x in open(p).read().split()]
train=[read(p) for p in sorted(glob.glob(D+'/Training_Data_Master/*.txt'))]
val={int(re.search(r'UVD-(\d+)',p).group(1)):read(p) for p in glob.glob(D+'/Validation_Data_Master/*.txt')}
attack=[read(p) for p in sorted(glob.glob(D+'/Attack_Data_Master/*/*.txt'))]
K=int(os.environ.get('K',10)); E=int(os.environ.get('E',16)); H=int(os.environ.get('H',128)); EP=int(os.environ.get('EP',12))
def auc(neg,pos):
    s=np.concatenate([neg,pos])  # Mann-Whitney with average ranks for ties
    order=np.argsort(s); ranks=np.empty(len(s)); i=0; ss=s[order]
    while i<len(s):
        j=i
        while j+1<len(s) and ss[j+1]==ss[i]: j+=1
        ranks[order[i:j+1]]=(i+j)/2+1; i=j+1
    rp=ranks[len(neg):].sum(); return (rp-len(pos)*(len(pos)+1)/2)/(len(pos)*len(neg))
def far90(neg,pos):
    t=np.quantile(pos,0.10); return (neg>=t).mean()
def run(tr, normal, name):
    rng=np.random.default_rng(1)
    voc={}
    for t in tr:
        for c in t: voc.setdefault(c,len(voc))
    PAD=len(voc); UNK=PAD+1; V=UNK+1
    def enc(t): return np.array([voc.get(c,UNK) for c in t],dtype=np.int64)
    def examples(ts):
        X=[];Y=[]
        for t in ts:
            e=enc(t); p=np.concatenate([np.full(K,PAD),e])
            idx=np.arange(len(e))[:,None]+np.arange(K)[None,:]
            X.append(p[idx]); Y.append(e)
        return np.concatenate(X),np.concatenate(Y)
    # hold out 10% of training traces for early stopping (training data only)
    perm=rng.permutation(len(tr)); nho=len(tr)//10
    ho=[tr[i] for i in perm[:nho]]; fit=[tr[i] for i in perm[nho:]]
    Xf,Yf=examples(fit); Xh,Yh=examples(ho)
    sc=lambda *s: rng.normal(0,1,s)/np.sqrt(s[0])
    P={'emb':rng.normal(0,0.1,(V,E)),'W1':sc(K*E,H),'b1':np.zeros(H),'W2':sc(H,V),'b2':np.zeros(V)}
    M={k:np.zeros_like(v) for k,v in P.items()}; S={k:np.zeros_like(v) for k,v in P.items()}
    def fwd(X):
        x=P['emb'][X].reshape(len(X),K*E); h=np.tanh(x@P['W1']+P['b1']); z=h@P['W2']+P['b2']
        z-=z.max(1,keepdims=True); lp=z-np.log(np.exp(z).sum(1,keepdims=True)); return x,h,lp
    def nll(X,Y,bs=8192):
        out=np.empty(len(Y))
        for i in range(0,len(Y),bs):
            _,_,lp=fwd(X[i:i+bs]); out[i:i+bs]=-lp[np.arange(len(lp)),Y[i:i+bs]]
        return out
    lr=2e-3; step=0; B=256; best=(1e9,None)
    for ep in range(EP):
        o=rng.permutation(len(Yf)); t0=time.time()
        for i in range(0,len(o),B):
            b=o[i:i+B]; X=Xf[b]; Y=Yf[b]
            x,h,lp=fwd(X); p=np.exp(lp); p[np.arange(len(Y)),Y]-=1; p/=len(Y)
            g={'W2':h.T@p,'b2':p.sum(0)}; dh=(p@P['W2'].T)*(1-h*h)
            g['W1']=x.T@dh; g['b1']=dh.sum(0); dx=(dh@P['W1'].T).reshape(len(X),K,E)
            ge=np.zeros_like(P['emb']); np.add.at(ge,X,dx); g['emb']=ge
            step+=1
            for k in P:
                M[k]=0.9*M[k]+0.1*g[k]; S[k]=0.999*S[k]+0.001*g[k]**2
                P[k]-=lr*(M[k]/(1-0.9**step))/(np.sqrt(S[k]/(1-0.999**step))+1e-8)
        hl=nll(Xh,Yh).mean()
        print(f'{name} epoch {ep} heldout nll {hl:.4f} ({time.time()-t0:.0f}s)',flush=True)
        if hl<best[0]: best=(hl,{k:v.copy() for k,v in P.items()})
        else: break
    P.update(best[1])
    def score(t):
        X,Y=examples([t]); return nll(X,Y).mean()
    neg=np.array([score(t) for t in normal]); pos=np.array([score(t) for t in attack])
    h1=np.array([score(val[i]) for i in range(1,1001)]); h2=np.array([score(val[i]) for i in range(1001,2001)])
    print(f'{name}: AUC {auc(neg,pos):.3f} FA@90 {far90(neg,pos)*100:.1f}%  | UVD1-1000 AUC {auc(h1,pos):.3f} | UVD1001-2000 AUC {auc(h2,pos):.3f}',flush=True)
which=os.environ.get('P','both')
if which in('both','published'): run(train,[val[i] for i in range(1,2001)],'published')
if which in('both','agreed'): run(train+[val[i] for i in range(1,1001)],[val[i] for i in range(1001,2001)],'agreed')
